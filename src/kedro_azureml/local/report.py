"""What ``run --local`` shows: live step progress, a summary table, failed logs, outputs."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table

from kedro_azureml.local.runner import (
    FAILED,
    INTERRUPTED,
    RUNNER_LOG_PREFIX,
    RUNNING,
    SKIPPED,
    SUCCEEDED,
    RunResult,
    StepResult,
)
from kedro_azureml.local.timeouts import TIMED_OUT

_STYLE = {
    SUCCEEDED: "green",
    FAILED: "bold red",
    SKIPPED: "yellow",
    RUNNING: "cyan",
    INTERRUPTED: "magenta",
    TIMED_OUT: "bold red",
}
_MARK = {SUCCEEDED: "✔", FAILED: "✘", SKIPPED: "↷", RUNNING: "▶", INTERRUPTED: "■", TIMED_OUT: "⏱"}
_TIMED = (SUCCEEDED, FAILED, INTERRUPTED, TIMED_OUT)
LOG_TAIL_LINES = 40
TAIL_BYTES = 256 * 1024  # of a step log, the most ever read to show its error
_TRACEBACK = "Traceback (most recent call last)"
_INSIDE_TRACEBACK = (" ", "\t", "│", "╭", "╰")  # frames, and rich's box around them
PREVIEW_BYTES = 4096
MESSAGE_LINES = 10  # of an exception's message, the most shown after its first line
# A log record as Kedro's rich handler prints it ("[time] LEVEL    message   file.py:N", the
# time only when it changed), or a Python warning printed as is ("file.py:N: XWarning: ...").
_RECORD = re.compile(r"^(?:\[[^\]]*\])?\s*(?P<level>DEBUG|INFO|WARNING|ERROR|CRITICAL)\s{2,}")
_PY_WARNING = re.compile(r"^\S.*:\d+: \w*Warning: ")
# Where a failed step stopped (StepResult.failed_at), as the report says it.
_FAILED_AT = {
    "inputs": "not run",
    "outputs": "exit 0, outputs missing",
    "upload": "its node(s) ran, the upload failed",
}


def progress_printer(console: Console, total: int) -> Callable[[StepResult], None]:
    finished = 0

    def on_change(result: StepResult) -> None:
        nonlocal finished
        if result.status != RUNNING:
            finished += 1
        style = _STYLE.get(result.status, "")
        timing = f" in {result.duration:.1f}s" if result.status in _TIMED else ""
        if result.status == SUCCEEDED and result.reason:
            timing = f" ({result.reason})"  # reused by --resume
        console.print(
            f"[{style}]{_MARK.get(result.status, '?')} {result.name}[/] "
            f"{result.status}{timing}  [dim]({finished}/{total})[/]",
            highlight=False,
        )

    return on_change


def summary_table(result: RunResult) -> Table:
    table = Table(title=f"run --local: {result.run_dir}", title_justify="left")
    for column in ("kedro node(s)", "status", "duration", "log"):
        table.add_column(column, overflow="fold")
    for step in result.steps.values():
        style = _STYLE.get(step.status, "")
        table.add_row(
            step.display_name,
            f"[{style}]{step.status}[/]" + (f" ({step.reason})" if step.reason else ""),
            f"{step.duration:.1f}s" if step.status in _TIMED else "-",
            str(step.log_path.relative_to(result.run_dir)) if step.log_path else "-",
        )
    return table


def print_report(console: Console, result: RunResult) -> None:
    console.print(summary_table(result))
    if not result.succeeded:
        console.print(
            "Rerun its failed, interrupted and skipped steps, once fixed, with: "
            f"kedro azureml run --local --resume {result.run_dir.name}",
            highlight=False,
        )
    for reference, version in sorted(result.asset_versions.items()):
        console.print(f"data asset {reference} read as version {version}", highlight=False)
    for step in result.steps.values():
        if step.status in (FAILED, TIMED_OUT) and step.log_path and step.log_path.exists():
            console.rule(f"[bold red]{step.name} failed ({_how(step)}): the error in its log")
            tail = error_tail(step.log_path, command_failed=step.failed_at in (None, "command"))
            console.print("\n".join(tail), markup=False, highlight=False)
    for name, folder in sorted(result.job_outputs.items()):
        if not folder.is_dir() or not any(folder.iterdir()):
            continue  # its step failed or never ran
        console.print(f"[bold]job output[/] {name}: {folder}", highlight=False)
        preview = _json_preview(folder)
        if preview is not None:
            console.print(preview, markup=False, highlight=False)


def read_tail(path: Path, max_bytes: int = TAIL_BYTES) -> list[str]:
    """The last lines of ``path``, reading at most ``max_bytes`` from its end: logs get huge."""
    with path.open("rb") as stream:
        size = stream.seek(0, os.SEEK_END)
        stream.seek(max(0, size - max_bytes))
        lines = stream.read(max_bytes).decode(errors="replace").splitlines()
    return lines[1:] if size > max_bytes else lines  # the first one was cut


def _how(step: StepResult) -> str:
    if step.failed_at in _FAILED_AT:
        return _FAILED_AT[step.failed_at]
    return f"exit {step.returncode}" if step.returncode is not None else "not run"


def _runner_lines(lines: list[str]) -> int:
    """Where the runner's own lines at the end of a step log start (``len(lines)``: none)."""
    start = len(lines)
    for i in range(len(lines) - 1, -1, -1):
        if lines[i].startswith(RUNNER_LOG_PREFIX):
            start = i
        elif lines[i].strip():
            break
    return start


def without_warnings(lines: list[str]) -> list[str]:
    """``lines`` less the warning records in them (each with its continuation lines)."""
    kept: list[str] = []
    in_warning = False
    for line in lines:
        record = _RECORD.match(line)
        if record or _PY_WARNING.match(line):
            in_warning = _PY_WARNING.match(line) is not None or (
                record is not None and record["level"] == "WARNING"
            )
        elif line and not line[0].isspace():
            in_warning = False  # neither a record nor its continuation: plain output
        if not in_warning:
            kept.append(line)
    return kept


def error_tail(
    path: Path, max_lines: int = LOG_TAIL_LINES, *, command_failed: bool = True
) -> list[str]:
    """What a failed step's log says went wrong: its last traceback, down to the exception.

    A traceback's first line, then its last frames and the exception, then what the runner
    wrote after the command; warnings logged after it stay in the log file. Without a
    traceback, the last lines that are not warnings. When the command did not fail (the step
    failed before it started, or after it exited 0: its outputs, their upload), only the
    runner's own lines: the command's log says nothing about that error.
    """
    lines = read_tail(path)
    own = _runner_lines(lines)
    if own < len(lines) and not command_failed:
        return lines[own:][-max_lines:]
    runner, lines = lines[own:], lines[:own]
    starts = [i for i, line in enumerate(lines) if _TRACEBACK in line]
    if not starts:
        return [*without_warnings(lines), *runner][-max_lines:]
    start = starts[-1]
    end = next(
        (
            i
            for i in range(start + 1, len(lines))
            if lines[i].strip() and not lines[i].startswith(_INSIDE_TRACEBACK)
        ),
        len(lines) - 1,
    )
    end = _message_end(lines, end)
    section = lines[start : end + 1]
    if len(section) + len(runner) > max_lines:
        keep = max(1, max_lines - 2 - len(runner))
        section = [section[0], "    ...", *section[-keep:]]
    return [*section, *runner]


def _message_end(lines: list[str], end: int, most: int = MESSAGE_LINES) -> int:
    """The last line of the exception message starting at ``lines[end]``: a message goes on
    (a dataset's repr, the OS error) until a blank line or the next log record or warning."""
    for i in range(end + 1, min(len(lines), end + 1 + most)):
        line = lines[i]
        if not line.strip() or _RECORD.match(line) or _PY_WARNING.match(line):
            break
        if _TRACEBACK in line:
            break
        end = i
    return end


def _json_preview(folder: Path) -> str | None:
    """Show small JSON outputs (metrics, reports) inline: the reason one runs a pipeline."""
    for path in sorted(folder.glob("*.json")):
        if path.name.startswith("_") or path.stat().st_size > PREVIEW_BYTES:
            continue
        try:
            return json.dumps(json.loads(path.read_text()), indent=2)
        except ValueError:
            continue
    return None
