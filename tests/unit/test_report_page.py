"""``report.html``: the timeline and the table of a run, rendered from its RunResult."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from kedro_azureml.local.report_page import report_html, timeline_svg
from kedro_azureml.local.runner import FAILED, SKIPPED, SUCCEEDED, RunResult, StepResult

SVG = "{http://www.w3.org/2000/svg}"


def _result(tmp_path: Path) -> RunResult:
    run_dir = tmp_path / "20260101-000000-default"
    result = RunResult(run_dir=run_dir, run_id="local-abc")
    result.steps = {
        "prepare": StepResult(
            "prepare",
            "ns.prepare_node",
            SUCCEEDED,
            2.0,
            run_dir / "logs/prepare.log",
            0,
            "",
            1000.0,
            1002.0,
        ),
        "train": StepResult(
            "train",
            "ns.train <fast>",
            FAILED,
            3.0,
            run_dir / "logs/train.log",
            1,
            "exit 1",
            1002.0,
            1005.0,
            ranks=4,
        ),
        "score": StepResult("score", "ns.score", SKIPPED, reason="its input step failed"),
    }
    return result


def test_bars_start_and_end_on_the_shared_time_axis(tmp_path: Path) -> None:
    root = ET.fromstring(timeline_svg(_result(tmp_path)))
    rows = {g.get("data-step"): g for g in root.iter(f"{SVG}g")}
    assert list(rows) == ["prepare", "train", "score"]
    prepare, train = (rows[name].find(f"{SVG}rect") for name in ("prepare", "train"))
    assert prepare is not None and train is not None
    prepare_end = float(prepare.get("x", 0)) + float(prepare.get("width", 0))
    assert abs(prepare_end - float(train.get("x", 0))) < 0.5  # train starts as prepare ends
    assert float(train.get("width", 0)) > float(prepare.get("width", 0))
    assert rows["score"].find(f"{SVG}rect") is None  # never ran: no bar, its reason instead
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "3.0s x4 ranks" in texts and "its input step failed" in texts


def test_page_links_logs_relative_to_the_run_folder_and_escapes(tmp_path: Path) -> None:
    page = report_html(_result(tmp_path))
    assert '<a href="logs/train.log">' in page and '<a href="logs/prepare.log">' in page
    assert "ns.train &lt;fast&gt;" in page
    assert "3 steps, failed" in page
    assert page.isascii() and "<script" not in page
    assert not re.search(r"(src|href)=\"https?:", page)
