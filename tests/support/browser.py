"""A real headless Chromium (Debian's chromium + chromium-driver) for the pages we write.

Offline by construction: every background fetch Chromium would make on its own is off, and
each browser gets a fresh profile. ``open_page`` returns what the page shows and what its
console said, so a test asserts both. ``block_network`` cuts the page off the network and
``requested_urls`` lists what it asked for, so a test can also prove it fetched nothing.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)
INSTALL_HINT = "apt-get install -y chromium chromium-driver (see .ci/run)"


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    for program in (CHROMIUM, CHROMEDRIVER):
        if not Path(program).exists():
            return f"{program} is missing: {INSTALL_HINT}"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return 'selenium is missing: pip install -e ".[test]"'
    return None


@dataclass
class PageView:
    text: str  # what the page shows (its body's visible text)
    errors: list[str]  # console messages of level SEVERE: JS errors, failed loads
    svg_texts: list[str]  # the text of every SVG <text> element
    links: list[str]  # every link's target, resolved


@contextmanager
def chromium(window: tuple[int, int] = (1400, 1000)) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="kedro-azureml-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}", f"--window-size={window[0]},{window[1]}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def block_network(driver: Any) -> None:
    """Fail every http(s) and websocket request of the pages this browser opens from now on."""
    driver.execute_cdp_cmd("Network.enable", {})
    patterns = ["http://*", "https://*", "ws://*", "wss://*"]
    driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": patterns})


def requested_urls(driver: Any) -> list[str]:
    """Every URL the pages opened from disk asked for since the last call, blocked ones too.

    Requests of the browser's own pages (its chrome:// start tab) are left out.
    """
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] != "Network.requestWillBeSent":
            continue
        if message["params"].get("documentURL", "").startswith("file:"):
            urls.append(message["params"]["request"]["url"])
    return urls


def shadow_svg_texts(driver: Any) -> list[str]:
    """The text of every SVG drawn in a shadow root of the page (not of its iframes).

    A closed shadow root (as the docs theme puts its Mermaid drawings in) is out of reach of
    the page's scripts and of WebDriver's selectors; the DevTools protocol sees it.
    """
    texts: list[str] = []

    def collect(node: dict[str, Any], in_shadow: bool, in_svg: bool) -> None:
        name = node.get("nodeName", "").lower()
        if name in ("style", "script"):
            return
        in_svg = in_svg or (in_shadow and name == "svg")
        if in_svg and node.get("nodeType") == 3 and node["nodeValue"].strip():
            texts.append(node["nodeValue"].strip())
        for child in node.get("children", []):
            collect(child, in_shadow, in_svg)
        for root in node.get("shadowRoots", []):
            collect(root, True, in_svg)

    document = driver.execute_cdp_cmd("DOM.getDocument", {"depth": -1, "pierce": True})
    collect(document["root"], False, False)  # an iframe's document (contentDocument) is left out
    return texts


def open_page(
    driver: Any, page: Path, screenshot: Path | None = None, drawn: str | None = None
) -> PageView:
    """Open ``page`` from disk; ``drawn``: a JavaScript expression, true once it has drawn."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(page.resolve().as_uri())
    if drawn is not None:
        WebDriverWait(driver, 60).until(lambda _: driver.execute_script(f"return {drawn}"))
    if screenshot is not None:
        # The whole page, not only the window: size the window to the document first.
        width = driver.execute_script("return document.documentElement.scrollWidth")
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(max(800, width + 40), max(600, height + 140))
        driver.save_screenshot(str(screenshot))
    logs = driver.get_log("browser")
    return PageView(
        text=driver.find_element(By.TAG_NAME, "body").text,
        errors=[entry["message"] for entry in logs if entry.get("level") == "SEVERE"],
        svg_texts=[element.text for element in driver.find_elements(By.CSS_SELECTOR, "svg text")],
        links=[
            str(element.get_attribute("href"))
            for element in driver.find_elements(By.CSS_SELECTOR, "a[href]")
        ],
    )
