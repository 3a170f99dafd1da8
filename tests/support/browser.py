"""A real headless Chromium (Debian's chromium + chromium-driver) for the pages we write.

Offline by construction: every background fetch Chromium would make on its own is off, and
each browser gets a fresh profile. ``open_page`` returns what the page shows and what its
console said, so a test asserts both.
"""

from __future__ import annotations

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
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def open_page(driver: Any, page: Path, screenshot: Path | None = None) -> PageView:
    from selenium.webdriver.common.by import By

    driver.get(page.resolve().as_uri())
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
