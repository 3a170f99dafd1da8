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
# A new record of Kedro's rich log ("[12/01/26 06:35:41] INFO ...") or of logging's default format.
_LOG_RECORD = re.compile(r"^(\[\d\d/\d\d/\d\d[ \d:]*\]|\d{4}[-/]\d\d[-/]\d\d[ T]\d\d:)")
PREVIEW_BYTES = 4096


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
            how = f"exit {step.returncode}" if step.returncode is not None else "not run"
            console.rule(f"[bold red]{step.name} failed ({how}): the error in its log")
            console.print("\n".join(error_tail(step.log_path)), markup=False, highlight=False)
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


def error_tail(path: Path, max_lines: int = LOG_TAIL_LINES) -> list[str]:
    """What a failed step's log says went wrong: its last traceback, down to the exception.

    A traceback's first line, then its last frames and the exception; warnings logged after
    it stay in the log file. Without a traceback, the last lines.
    """
    lines = read_tail(path)
    starts = [i for i, line in enumerate(lines) if _TRACEBACK in line]
    if not starts:
        return lines[-max_lines:]
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
    if len(section) > max_lines:
        section = [section[0], "    ...", *section[-(max_lines - 2) :]]
    return section


def _message_end(lines: list[str], first: int, max_extra: int = 12) -> int:
    """The last line of the exception message starting at ``first``: messages span lines (a
    dataset's description, then the OS error with the path), up to a blank line or a new log
    record."""
    end = first
    for i in range(first + 1, min(len(lines), first + 1 + max_extra)):
        line = lines[i]
        if not line.strip() or _LOG_RECORD.match(line) or line.startswith(_INSIDE_TRACEBACK):
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
