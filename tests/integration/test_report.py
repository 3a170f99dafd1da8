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


def _report(log: Path, returncode: int | None = 1, failed_at: str | None = "command") -> str:
    console = Console(file=io.StringIO(), width=200)
    result = RunResult(run_dir=log.parent)
    result.steps["explode"] = StepResult(
        "explode", "explode", status=FAILED, log_path=log, returncode=returncode
    )
    result.steps["explode"].failed_at = failed_at
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


def test_an_exception_message_over_several_lines_is_shown_whole(tmp_path: Path) -> None:
    log = tmp_path / "explode.log"
    message = [
        "DatasetError: numbers: Failed while loading data from dataset ",
        "kedro_datasets.pandas.csv_dataset.CSVDataset(filepath=PurePosixPath('/s/numbers.csv')).",
        "[Errno 2] No such file or directory: '/s/numbers.csv'",
    ]
    log.write_text(
        STEP_LOG.replace("RuntimeError: boom: this node always fails", "\n".join(message)) + "\n"
    )
    shown = _report(log)
    assert all(line.strip() in shown for line in message)
    assert "WARNING" not in shown  # the warnings after it are not part of it


def test_without_a_traceback_the_last_lines_are_shown(tmp_path: Path) -> None:
    log = tmp_path / "explode.log"
    log.write_text("\n".join(f"line {n}" for n in range(100)) + "\nkedro-azureml: it broke\n")
    shown = _report(log)
    assert "kedro-azureml: it broke" in shown and "line 99" in shown
    assert "line 59\n" not in shown


# What Kedro's rich handler writes for a step whose node succeeded: records, Python warnings.
NODE_RAN_LOG = """\
$ kedro azureml execute --node explode
[12/01/26 06:06:37] WARNING  /venv/omegaconf.py:12: UserWarning:        warnings.py:110
                             register_new_resolver() is deprecated.
                               OmegaConf.register_new_resolver(
                    INFO     Loading data from scaled       data_catalog.py:1151
                    INFO     Running node: explode([scaled]) -> [exploded]  node.py:531
/venv/lib/python3.11/site-packages/pandas/core/frame.py:12: FutureWarning: deprecated thing
  return self._constructor(result)
                    INFO     Completed node: explode               runner.py:245
"""


def test_a_step_whose_upload_failed_shows_the_runner_error_only(tmp_path: Path) -> None:
    log = tmp_path / "explode.log"
    log.write_text(
        NODE_RAN_LOG
        + "\nkedro-azureml: its node(s) ran and exited 0, but uploading output 'exploded' "
        "failed: ResourceNotFoundError: The specified container does not exist.\n"
        "kedro-azureml: ErrorCode:ContainerNotFound\n"
    )
    shown = _report(log, returncode=0, failed_at="upload")
    assert "explode failed (its node(s) ran, the upload failed)" in shown
    assert "uploading output 'exploded' failed: ResourceNotFoundError" in shown
    assert "ErrorCode:ContainerNotFound" in shown
    assert "Completed node" not in shown and "Warning" not in shown and "not run" not in shown


def test_without_a_traceback_warnings_are_left_out(tmp_path: Path) -> None:
    log = tmp_path / "explode.log"
    log.write_text(NODE_RAN_LOG + "Error: the step's command gave up\n")
    shown = _report(log)
    assert "explode failed (exit 1)" in shown
    assert "Error: the step's command gave up" in shown
    assert "Completed node: explode" in shown  # the context stays
    assert "Warning" not in shown and "deprecated" not in shown
    assert "register_new_resolver" not in shown and "return self._constructor" not in shown


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
