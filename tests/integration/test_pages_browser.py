"""The pictures in a real headless Chromium: ``compile --graph``, ``run --local``'s report, and
the docs site's pictures page, whose Mermaid block the site draws with no CDN.

Each page is opened from disk as a user would, offline; it must render without a console
error and show every step's name.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.browser import (
    block_network,
    browser_missing,
    chromium,
    open_page,
    requested_urls,
    shadow_svg_texts,
)
from tests.support.kedro_projects import REPO, copy_example, kedro, last_run, quiet_env

pytestmark = pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing()))
INIT = ["azureml", "init", "rg", "ws", "exp", "cpu-cluster", "kedro-env@latest"]
# The docs theme draws a ```mermaid block into a closed shadow root, replacing its <pre>.
MERMAID_DRAWN = "document.querySelector('div.mermaid') && !document.querySelector('pre.mermaid')"


def _step_names(pipeline_yaml: Path) -> list[str]:
    return list(yaml.safe_load(pipeline_yaml.read_text())["jobs"])


def test_step_graph_page_shows_every_step_offline(tmp_path: Path) -> None:
    project = copy_example(tmp_path)
    kedro(
        project,
        *("azureml", "compile", "-p", "distributed", "-o", "job.yaml"),
        *("--graph", "graph.html"),
    )
    kedro(project, "azureml", "compile", "-p", "distributed", "-o", "job.yaml", "--graph", "g.mmd")
    steps = _step_names(project / "job.yaml")
    assert len(steps) >= 3
    page = (project / "graph.html").read_text()
    assert "<script" not in page and not re.search(r"(src|href)=\"https?:", page)
    with chromium() as driver:
        view = open_page(driver, project / "graph.html", tmp_path / "graph.png")
    assert view.errors == []
    for step in steps:
        assert step in view.svg_texts, step
    assert any(text.startswith("distributed: pytorch x2") for text in view.svg_texts)
    assert "compute: chunky" in view.svg_texts
    assert "model_input_table" in view.svg_texts  # an edge's dataset
    mermaid = (project / "g.mmd").read_text()
    assert mermaid.startswith("flowchart TD") and all(step in mermaid for step in steps)


def test_run_report_page_shows_every_step_and_links_its_log(small_project: Path) -> None:
    kedro(small_project, *INIT)
    result = kedro(
        small_project,
        *("azureml", "run", "--local", "-p", "failing", "--no-mlflow", "--group-by", "none"),
        check=False,
    )  # one node per step: the report shows a failed, a skipped and the succeeded steps
    assert result.returncode == 1
    run = last_run(small_project)
    summary = json.loads((run / "summary.json").read_text())
    report = run / "report.html"
    assert "report.html" in result.stdout
    with chromium() as driver:
        view = open_page(driver, report, small_project / "report.png")
    assert view.errors == []
    for step, entry in summary["steps"].items():
        assert step in view.svg_texts, step
        assert entry["status"] in view.text
    assert summary["steps"]["explode"]["status"] == "failed"
    assert summary["steps"]["after_explode"]["status"] == "skipped"
    ran = [name for name, entry in summary["steps"].items() if entry["log"]]
    assert sorted(view.links) == sorted((run / "logs" / f"{name}.log").as_uri() for name in ran)
    for name in ran:
        assert summary["steps"][name]["started"] <= summary["steps"][name]["finished"]


def test_docs_pictures_page_draws_the_mermaid_graph_offline(tmp_path: Path) -> None:
    pytest.importorskip("mkdocs", reason='the docs extra: pip install -e ".[docs]"')
    site = tmp_path / "site"
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(site)],
        cwd=REPO,
        env=quiet_env(NO_MKDOCS_2_WARNING="1"),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, build.stderr[-6000:]
    project = copy_example(tmp_path)
    kedro(project, "azureml", "compile", "-p", "distributed", "-o", "job.yaml")
    steps = _step_names(project / "job.yaml")
    assert len(steps) >= 3
    with chromium() as driver:
        block_network(driver)
        view = open_page(driver, site / "how-to" / "pictures.html", drawn=MERMAID_DRAWN)
        drawn = shadow_svg_texts(driver)
        urls = requested_urls(driver)
    # From disk the theme's search asks for search/search_index.js, which only its offline
    # plugin writes (and that plugin loads a CDN script): search needs a served site.
    errors = [error for error in view.errors if "search/search_index.js" not in error]
    assert errors == []
    for step in steps:
        assert step in drawn, step
    assert "compute: chunky" in drawn and "model_input_table" in drawn
    assert (site / "assets" / "vendor" / "mermaid.min.js").as_uri() in urls
    assert [url for url in urls if not url.startswith(("file:", "data:", "blob:"))] == []
