"""The pictures in a real headless Chromium: ``compile --graph`` and ``run --local``'s report.

Each page is opened from disk as a user would, offline; it must render without a console
error and show every step's name.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from tests.support.browser import browser_missing, chromium, open_page
from tests.support.kedro_projects import copy_example, kedro, last_run

pytestmark = pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing()))
INIT = ["azureml", "init", "rg", "ws", "exp", "cpu-cluster", "kedro-env@latest"]


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
