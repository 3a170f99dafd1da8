"""``report.html`` of a ``run --local``: where the run spent its time, one page, offline.

A timeline (one bar per step, from its start to its end, coloured by status, with its rank
count) and a table linking each step's log. Rendered from the same ``RunResult`` as
``summary.json``; no script and nothing fetched, so the page opens from the run folder.
"""

from __future__ import annotations

import html
import time
from pathlib import Path

from kedro_azureml.local.runner import (
    FAILED,
    INTERRUPTED,
    PENDING,
    RUNNING,
    SKIPPED,
    SUCCEEDED,
    RunResult,
    StepResult,
)
from kedro_azureml.local.timeouts import TIMED_OUT

REPORT_FILE = "report.html"
_COLOUR = {
    SUCCEEDED: "#2da44e",
    FAILED: "#cf222e",
    TIMED_OUT: "#cf222e",
    INTERRUPTED: "#8250df",
    SKIPPED: "#bf8700",
    RUNNING: "#0969da",
    PENDING: "#8c959f",
}
_ROW = 26.0
_LABEL = 330.0  # px for the step names left of the bars
_PLOT = 620.0
_TOP = 28.0


def _clock(stamp: float | None) -> str:
    return time.strftime("%H:%M:%S", time.localtime(stamp)) if stamp is not None else "-"


def _log_link(step: StepResult, run_dir: Path) -> str:
    if step.log_path is None:
        return "-"
    try:
        relative = step.log_path.relative_to(run_dir).as_posix()
    except ValueError:
        relative = step.log_path.as_uri()
    return f'<a href="{html.escape(relative)}">{html.escape(relative)}</a>'


def _ticks(span: float) -> list[float]:
    """Round tick marks for a span of seconds: about six of them."""
    for step in (0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600):
        if span / step <= 6:
            break
    return [index * step for index in range(int(span / step) + 1)]


def timeline_svg(result: RunResult) -> str:
    """One row per step: a bar from its start to its end, the time axis on top."""
    steps = list(result.steps.values())
    timed = [step for step in steps if step.started_at is not None]
    origin = min((step.started_at or 0.0 for step in timed), default=0.0)
    end = max((step.finished_at or step.started_at or 0.0 for step in timed), default=origin)
    span = max(end - origin, 0.5)
    scale = _PLOT / span
    height = _TOP + len(steps) * _ROW + 10
    width = _LABEL + _PLOT + 120
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" role="img" width="{width:.0f}" '
        f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}">',
        "<title>Timeline of the steps</title>",
    ]
    for tick in _ticks(span):
        x = _LABEL + tick * scale
        parts.append(
            f'<line class="tick" x1="{x:.1f}" y1="{_TOP - 6:.1f}" x2="{x:.1f}" y2="{height:.1f}"/>'
            f'<text class="axis" x="{x:.1f}" y="{_TOP - 10:.1f}">{tick:g}s</text>'
        )
    for index, step in enumerate(steps):
        y = _TOP + index * _ROW
        name = step.name if len(step.name) <= 44 else step.name[:43] + "…"
        parts.append(
            f'<g class="row" data-step="{html.escape(step.name)}" data-status="'
            f'{html.escape(step.status)}"><text class="label" x="{_LABEL - 8:.1f}" '
            f'y="{y + _ROW * 0.65:.1f}">{html.escape(name)}</text>'
        )
        if step.started_at is not None:
            x = _LABEL + (step.started_at - origin) * scale
            bar = max(((step.finished_at or end) - step.started_at) * scale, 2.0)
            ranks = f" x{step.ranks} ranks" if step.ranks > 1 else ""
            parts.append(
                f'<rect x="{x:.1f}" y="{y + 4:.1f}" width="{bar:.1f}" height="{_ROW - 8:.1f}" '
                f'rx="3" fill="{_COLOUR.get(step.status, "#8c959f")}"><title>'
                f"{html.escape(step.name)}: {html.escape(step.status)}, "
                f"{step.duration:.1f}s{ranks}</title></rect>"
                f'<text class="bar-note" x="{x + bar + 6:.1f}" y="{y + _ROW * 0.65:.1f}">'
                f"{step.duration:.1f}s{ranks}</text>"
            )
        else:
            why = step.reason or step.status
            parts.append(
                f'<text class="bar-note" x="{_LABEL:.1f}" y="{y + _ROW * 0.65:.1f}">'
                f"{html.escape(why)}</text>"
            )
        parts.append("</g>")
    parts.append("</svg>")
    return "\n".join(parts)


def _table(result: RunResult) -> str:
    rows = []
    for step in result.steps.values():
        colour = _COLOUR.get(step.status, "#8c959f")
        reason = f" ({html.escape(step.reason)})" if step.reason else ""
        rows.append(
            f'<tr data-step="{html.escape(step.name)}"><td><code>{html.escape(step.name)}</code>'
            f'<div class="nodes">{html.escape(step.display_name)}</div></td>'
            f'<td><span class="status" style="background:{colour}">'
            f"{html.escape(step.status)}</span>{reason}</td>"
            f"<td>{_clock(step.started_at)}</td><td>{_clock(step.finished_at)}</td>"
            f"<td>{f'{step.duration:.1f}s' if step.started_at is not None else '-'}</td>"
            f"<td>{step.ranks}</td><td>{_log_link(step, result.run_dir)}</td></tr>"
        )
    return (
        "<table><thead><tr><th>step (Kedro nodes)</th><th>status</th><th>start</th>"
        "<th>end</th><th>duration</th><th>ranks</th><th>log</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #1f2328; }
h1 { font-size: 1.3rem; margin: 0 0 .3rem; }
p.meta { margin: 0 0 1rem; color: #57606a; }
.timeline { max-width: 100%; height: auto; }
.timeline text { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.timeline .label { text-anchor: end; fill: #1f2328; }
.timeline .axis { text-anchor: middle; fill: #57606a; font-size: 11px; }
.timeline .tick { stroke: #d0d7de; stroke-dasharray: 2 3; }
.timeline .bar-note { fill: #57606a; font-size: 11px; }
table { border-collapse: collapse; margin-top: 1.2rem; font-size: .9rem; }
th, td { border-bottom: 1px solid #d0d7de; padding: .35rem .6rem; text-align: left;
  vertical-align: top; }
.nodes { color: #57606a; font-size: .8rem; max-width: 32rem; }
td a { word-break: break-all; }
.status { color: #fff; border-radius: 3px; padding: 0 .4rem; }
"""


def report_html(result: RunResult, *, title: str = "run --local") -> str:
    """The whole page for ``result``; log links are relative to the run folder."""
    verdict = (
        "interrupted"
        if result.interrupted_by is not None
        else "succeeded"
        if result.succeeded
        else "failed"
    )
    heading = f"{title}: {result.run_dir.name}"
    page = (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(heading)}</title><style>{_STYLE}</style></head><body>\n"
        f"<h1>{html.escape(heading)}</h1>\n"
        f'<p class="meta">run id <code>{html.escape(result.run_id)}</code>: '
        f"{len(result.steps)} steps, {verdict}</p>\n"
        f"{timeline_svg(result)}\n{_table(result)}\n</body></html>\n"
    )
    return page.encode("ascii", "xmlcharrefreplace").decode()  # the same bytes in any locale
