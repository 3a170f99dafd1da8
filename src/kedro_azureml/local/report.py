"""What ``run --local`` shows: live step progress, a summary table, failed logs, outputs."""

from __future__ import annotations

import json
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

_STYLE = {
    SUCCEEDED: "green",
    FAILED: "bold red",
    SKIPPED: "yellow",
    RUNNING: "cyan",
    INTERRUPTED: "magenta",
}
_MARK = {SUCCEEDED: "✔", FAILED: "✘", SKIPPED: "↷", RUNNING: "▶", INTERRUPTED: "■"}
_TIMED = (SUCCEEDED, FAILED, INTERRUPTED)
LOG_TAIL_LINES = 40
PREVIEW_BYTES = 4096


def progress_printer(console: Console, total: int) -> Callable[[StepResult], None]:
    finished = 0

    def on_change(result: StepResult) -> None:
        nonlocal finished
        if result.status != RUNNING:
            finished += 1
        style = _STYLE.get(result.status, "")
        timing = f" in {result.duration:.1f}s" if result.status in _TIMED else ""
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
    for reference, version in sorted(result.asset_versions.items()):
        console.print(f"data asset {reference} read as version {version}", highlight=False)
    for step in result.steps.values():
        if step.status == FAILED and step.log_path and step.log_path.exists():
            lines = step.log_path.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:]
            how = f"exit {step.returncode}" if step.returncode is not None else "not run"
            console.rule(f"[bold red]{step.name} failed ({how}): log tail")
            console.print("\n".join(lines), markup=False, highlight=False)
    for name, folder in sorted(result.job_outputs.items()):
        if not folder.is_dir() or not any(folder.iterdir()):
            continue  # its step failed or never ran
        console.print(f"[bold]job output[/] {name}: {folder}", highlight=False)
        preview = _json_preview(folder)
        if preview is not None:
            console.print(preview, markup=False, highlight=False)


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
