"""What run --local prints about a failed step: the error from its log, read from the end."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
from pathlib import Path

from rich.console import Console

from kedro_azureml.local.report import print_report
from kedro_azureml.local.runner import FAILED, RunResult, StepResult

# A Kedro step log as rich writes it: a traceback in a box, then the exception, then warnings.
FRAME = "│ /project/src/demo/nodes.py:{n} in step_{n}{pad}│"
STEP_LOG = "\n".join(
    [
        "$ kedro azureml execute --node explode",
        *[f"   WARNING  something deprecated, number {n}" for n in range(60)],
        "   ERROR    Node explode: explode([scaled]) -> [exploded] failed with error:",
        "╭───────────────────── Traceback (most recent call last) ──────────────────────╮",
        *[FRAME.format(n=n, pad=" " * 40) for n in range(80)],
        '│ ❱ 47 │   raise RuntimeError("boom: this node always fails")                  │',
        "╰──────────────────────────────────────────────────────────────────────────────╯",
        "RuntimeError: boom: this node always fails",
        *[f"   WARNING  teardown warning number {n}" for n in range(50)],
    ]
)


def _report(log: Path) -> str:
    console = Console(file=io.StringIO(), width=200)
    result = RunResult(run_dir=log.parent)
    result.steps["explode"] = StepResult(
        "explode", "explode", status=FAILED, log_path=log, returncode=1
    )
    print_report(console, result)
    return console.file.getvalue()  # type: ignore[attr-defined,no-any-return]


def test_the_failed_step_tail_shows_the_exception_and_its_last_frames(tmp_path: Path) -> None:
    log = tmp_path / "explode.log"
    log.write_text(STEP_LOG + "\n")
    shown = _report(log)
    assert "RuntimeError: boom: this node always fails" in shown
    assert 'raise RuntimeError("boom: this node always fails")' in shown  # the last frame
    assert "Traceback (most recent call last)" in shown
    assert "step_79" in shown and "step_0 " not in shown  # the last frames, not the first
    assert "WARNING" not in shown  # neither the warnings before it nor after it


def test_without_a_traceback_the_last_lines_are_shown(tmp_path: Path) -> None:
    log = tmp_path / "explode.log"
    log.write_text("\n".join(f"line {n}" for n in range(100)) + "\nkedro-azureml: it broke\n")
    shown = _report(log)
    assert "kedro-azureml: it broke" in shown and "line 99" in shown
    assert "line 59\n" not in shown


def test_a_huge_step_log_is_read_from_its_end_only(tmp_path: Path) -> None:
    """A 4 GB log (sparse: no disk used), printed by a process allowed 1 GB of memory."""
    log = tmp_path / "huge.log"
    with log.open("wb") as stream:
        stream.truncate(4 << 30)
        stream.seek(0, 2)
        stream.write(("\n" + STEP_LOG + "\n").encode())
    code = textwrap.dedent(
        f"""
        import resource
        from pathlib import Path
        from tests.integration.test_report import _report
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
        print(_report(Path({str(log)!r})))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).parents[2],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "RuntimeError: boom: this node always fails" in done.stdout
