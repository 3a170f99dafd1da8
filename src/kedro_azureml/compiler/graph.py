"""``compile --graph``: the step graph as a picture, Mermaid text or a self-contained page.

Both are drawn from the same ``JobPlan`` that ``compile --explain`` prints and the YAML is
rendered from: boxes are steps (listing their Kedro nodes), edges carry the datasets that
travel between them. Pure: strings in, strings out; the command writes the file.

The HTML page draws its SVG here, in Python, with a simple layered layout (each step one row
below the deepest step it reads from), so it opens offline: no script, no CDN, no font.
"""

from __future__ import annotations

import html
from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property

from kedro_azureml.compiler.plan import JobPlan, StepPlan
from kedro_azureml.config import DEFAULT_COMPUTE

GRAPH_SUFFIXES = (".mmd", ".md", ".html")


@dataclass(frozen=True)
class StepEdge:
    source: str
    target: str
    datasets: tuple[str, ...]  # sorted


def step_edges(plan: JobPlan) -> list[StepEdge]:
    """One edge per pair of steps that data crosses between, with the datasets it carries."""
    producer_of = plan.producer_of()
    carried: dict[tuple[str, str], set[str]] = defaultdict(set)
    for step in plan.steps:
        for dataset in step.inputs:
            producer = producer_of.get(dataset)
            if producer is not None and producer != step.name:
                carried[(producer, step.name)].add(dataset)
    return [
        StepEdge(source, target, tuple(sorted(datasets)))
        for (source, target), datasets in carried.items()
    ]


def step_badges(step: StepPlan) -> list[str]:
    """What marks a step apart: a compute other than the default, a distributed run."""
    badges = []
    if step.compute != DEFAULT_COMPUTE:
        badges.append(f"compute: {step.compute}")
    if step.distribution is not None:
        spec = step.distribution
        badges.append(
            f"distributed: {spec.framework.value} x{spec.world_size} "
            f"({spec.num_nodes} node{'s' if spec.num_nodes != 1 else ''})"
        )
    if step.deterministic:
        badges.append("deterministic")
    return badges


# Mermaid ------------------------------------------------------------------------------------


def _mermaid_text(text: str) -> str:
    """Text inside a quoted Mermaid label: its own entity codes for what would end the label."""
    return (
        text.replace("&", "#amp;")
        .replace('"', "#quot;")
        .replace("<", "#lt;")
        .replace(">", "#gt;")
        .replace("|", "#124;")
    )


def graph_mermaid(plan: JobPlan) -> str:
    """The step graph as a Mermaid flowchart (renders on GitHub and in the docs site)."""
    ids = {step.name: f"s{index}" for index, step in enumerate(plan.steps)}
    lines = ["flowchart TD"]
    for step in plan.steps:
        label = [f"<b>{_mermaid_text(step.name)}</b>"]
        label += [f"<i>{_mermaid_text(badge)}</i>" for badge in step_badges(step)]
        label += [_mermaid_text(node) for node in step.node_names]
        lines.append(f'    {ids[step.name]}["{"<br/>".join(label)}"]')
    for edge in step_edges(plan):
        carried = "<br/>".join(_mermaid_text(name) for name in edge.datasets)
        lines.append(f'    {ids[edge.source]} -->|"{carried}"| {ids[edge.target]}')
    lines.append("    classDef compute fill:#fff4e0,stroke:#d08700")
    lines.append("    classDef distributed fill:#ffe8f0,stroke:#c2185b,stroke-width:2px")
    for step in plan.steps:
        if step.distribution is not None:
            lines.append(f"    class {ids[step.name]} distributed")
        elif step.compute != DEFAULT_COMPUTE:
            lines.append(f"    class {ids[step.name]} compute")
    return "\n".join(lines) + "\n"


def graph_markdown(plan: JobPlan) -> str:
    """Mermaid in a fenced block: a Markdown file GitHub and MkDocs render as the picture."""
    return f"# Pipeline '{plan.pipeline_name}'\n\n```mermaid\n{graph_mermaid(plan)}```\n"


# SVG layout -----------------------------------------------------------------------------------

_CHAR = 7.2  # px per character of the 12px monospace font
_LINE = 17.0
_PAD = 10.0
_GAP_X = 40.0
_GAP_Y = 90.0
_MARGIN = 20.0


@dataclass
class _Box:
    step: StepPlan
    lines: list[tuple[str, str]]  # (css class, text)
    layer: int = 0
    x: float = 0.0
    y: float = 0.0

    @cached_property
    def width(self) -> float:
        return max(len(text) for _, text in self.lines) * _CHAR + 2 * _PAD

    @cached_property
    def height(self) -> float:
        return len(self.lines) * _LINE + 2 * _PAD

    @property
    def center_x(self) -> float:
        return self.x + self.width / 2


def _boxes(plan: JobPlan, edges: list[StepEdge]) -> dict[str, _Box]:
    boxes = {
        step.name: _Box(
            step,
            [("name", step.name)]
            + [("badge", badge) for badge in step_badges(step)]
            + [("node", f"- {node}") for node in step.node_names],
        )
        for step in plan.steps
    }
    sources = defaultdict(list)
    for edge in edges:
        sources[edge.target].append(edge.source)
    for step in plan.steps:  # topological order: a step's sources already have their layer
        boxes[step.name].layer = max((boxes[s].layer + 1 for s in sources[step.name]), default=0)
    rows: dict[int, list[_Box]] = defaultdict(list)
    for box in boxes.values():
        rows[box.layer].append(box)
    y = _MARGIN
    for layer in sorted(rows):
        row = rows[layer]
        # Under the mean position of what they read from: fewer crossing edges.
        row.sort(
            key=lambda box: (
                sum(boxes[s].center_x for s in sources[box.step.name])
                / max(1, len(sources[box.step.name]))
            )
        )
        x = _MARGIN
        for box in row:
            box.x, box.y = x, y
            x += box.width + _GAP_X
        y += max(box.height for box in row) + _GAP_Y
    return boxes


def _svg_text(x: float, y: float, text: str, css: str) -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" class="{css}">{html.escape(text)}</text>'


@dataclass
class _Label:
    datasets: tuple[str, ...]
    x: float  # left edge
    y: float  # top edge

    @cached_property
    def width(self) -> float:
        return max(len(name) for name in self.datasets) * _LABEL_CHAR + 8

    @cached_property
    def height(self) -> float:
        return len(self.datasets) * _LINE

    def overlaps(self, x: float, y: float, width: float, height: float) -> bool:
        return (
            self.x < x + width
            and x < self.x + self.width
            and self.y < y + height
            and y < self.y + self.height
        )

    def svg(self) -> str:
        middle = self.x + self.width / 2
        return (
            f'<g class="edge-label"><rect x="{self.x:.1f}" y="{self.y:.1f}" '
            f'width="{self.width:.1f}" height="{self.height:.1f}" rx="3"/>'
            + "".join(
                _svg_text(middle, self.y + (index + 0.75) * _LINE, name, "dataset")
                for index, name in enumerate(self.datasets)
            )
            + "</g>"
        )


_LABEL_CHAR = _CHAR * 0.92  # the labels' 11px font


def _place_label(label: _Label, placed: list[_Label], boxes: list[_Box]) -> None:
    """Move ``label`` up or down in its gap until it covers no other label and no box, and
    add it to ``placed``."""
    start = label.y
    for shift in (0, 1, -1, 2, -2, 3, -3, 4, -4):
        label.y = start + shift * (label.height + 4)
        clear = not any(
            other.overlaps(label.x, label.y, label.width, label.height) for other in placed
        )
        if clear and not any(label.overlaps(box.x, box.y, box.width, box.height) for box in boxes):
            break
    else:
        label.y = start
    placed.append(label)


def _edge_path(source: _Box, target: _Box, side_x: float | None) -> str:
    """A curve from the bottom of ``source`` to the top of ``target``; an edge that skips
    layers goes round the boxes between them, down the right side at ``side_x``."""
    x1, y1 = source.center_x, source.y + source.height
    x2, y2 = target.center_x, target.y
    if side_x is None:
        bend = (y2 - y1) / 2
        return (
            f"M {x1:.1f} {y1:.1f} C {x1:.1f} {y1 + bend:.1f}, {x2:.1f} {y2 - bend:.1f}, "
            f"{x2:.1f} {y2:.1f}"
        )
    down, up = y1 + _GAP_Y / 2, y2 - _GAP_Y / 2
    return (
        f"M {x1:.1f} {y1:.1f} Q {x1:.1f} {down:.1f} {side_x:.1f} {down:.1f} "
        f"L {side_x:.1f} {up:.1f} Q {x2:.1f} {up:.1f} {x2:.1f} {y2:.1f}"
    )


def _edges_svg(edges: list[StepEdge], boxes: dict[str, _Box]) -> tuple[list[str], list[_Label]]:
    paths: list[str] = []
    labels: list[_Label] = []
    rows: dict[int, list[_Box]] = defaultdict(list)
    for box in boxes.values():
        rows[box.layer].append(box)
    right_end = {layer: max(box.x + box.width for box in row) for layer, row in rows.items()}
    # A label can only collide with the labels of its own gap and the boxes around it:
    # comparing only those keeps a graph of thousands of steps quick to draw.
    gaps: dict[tuple[int, int], list[_Label]] = defaultdict(list)
    detours = 0
    for edge in edges:
        source, target = boxes[edge.source], boxes[edge.target]
        side_x = None
        label = _Label(edge.datasets, 0.0, 0.0)
        label.y = (source.y + source.height + target.y) / 2 - label.height / 2
        if target.layer - source.layer > 1:
            side_x = max(right_end[layer] for layer in range(source.layer + 1, target.layer))
            side_x += 24 + 14 * (detours % 16)
            detours += 1
            label.x = side_x + 6
        else:
            label.x = (source.center_x + target.center_x) / 2 - label.width / 2
        paths.append(
            f'<path class="edge" marker-end="url(#arrow)" d="{_edge_path(source, target, side_x)}"/>'
        )
        nearby = [box for layer in range(source.layer, target.layer + 1) for box in rows[layer]]
        _place_label(label, gaps[(source.layer, target.layer)], nearby)
        labels.append(label)
    return paths, labels


def _box_svg(box: _Box) -> str:
    kind = (
        "distributed"
        if box.step.distribution is not None
        else "compute"
        if box.step.compute != DEFAULT_COMPUTE
        else "default"
    )
    return "".join(
        [
            f'<g class="step {kind}" data-step="{html.escape(box.step.name)}">',
            f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.width:.1f}" '
            f'height="{box.height:.1f}" rx="6"/>',
            *(
                _svg_text(box.x + _PAD, box.y + _PAD + (index + 0.8) * _LINE, text, css)
                for index, (css, text) in enumerate(box.lines)
            ),
            "</g>",
        ]
    )


def graph_svg(plan: JobPlan) -> str:
    """The step graph as an SVG element: boxes in layers, labelled curved edges."""
    edges = step_edges(plan)
    boxes = _boxes(plan, edges)
    paths, labels = _edges_svg(edges, boxes)
    width = max(
        [box.x + box.width for box in boxes.values()] + [lab.x + lab.width for lab in labels]
    )
    height = max(
        [box.y + box.height for box in boxes.values()] + [lab.y + lab.height for lab in labels]
    )
    width, height = width + _MARGIN, height + _MARGIN
    return "\n".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" class="step-graph" role="img" '
            f'width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}">',
            f"<title>{html.escape(plan.pipeline_name)}: {len(plan.steps)} Azure ML steps</title>",
            '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
            'markerHeight="8" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
            'class="arrowhead"/></marker></defs>',
            *paths,
            *(_box_svg(box) for box in boxes.values()),
            *(label.svg() for label in labels),  # over the edges and boxes, readable
            "</svg>",
        ]
    )


_PAGE_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #1f2328; }
h1 { font-size: 1.3rem; margin: 0 0 .3rem; }
p.legend { margin: 0 0 1rem; color: #57606a; font-size: .9rem; }
p.legend span { display: inline-block; padding: 0 .4rem; border: 1px solid; border-radius: 3px; }
.step-graph { max-width: 100%; height: auto; }
.step-graph text { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.step-graph .step rect { fill: #eef4ff; stroke: #0969da; stroke-width: 1.5; }
.step-graph .step.compute rect, .legend .compute { fill: #fff4e0; background: #fff4e0;
  stroke: #d08700; border-color: #d08700; }
.step-graph .step.distributed rect, .legend .distributed { fill: #ffe8f0; background: #ffe8f0;
  stroke: #c2185b; border-color: #c2185b; stroke-width: 2.5; }
.step-graph .name { font-weight: bold; fill: #0a3069; }
.step-graph .badge { fill: #9a3412; font-style: italic; }
.step-graph .node { fill: #1f2328; }
.step-graph .edge { fill: none; stroke: #6e7781; stroke-width: 1.5; }
.step-graph .arrowhead { fill: #6e7781; }
.step-graph .edge-label rect { fill: #ffffff; stroke: #d0d7de; opacity: .95; }
.step-graph .dataset { fill: #57606a; text-anchor: middle; font-size: 11px; }
"""


def graph_html(plan: JobPlan) -> str:
    """A self-contained page with the step graph: inline SVG and CSS, nothing fetched."""
    title = f"Pipeline '{plan.pipeline_name}': {len(plan.steps)} Azure ML steps"
    page = (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title>"
        f"<style>{_PAGE_STYLE}</style></head><body>\n"
        f"<h1>{html.escape(title)}</h1>\n"
        '<p class="legend">Boxes are steps with their Kedro nodes; arrows carry the datasets '
        'that travel between steps. <span class="compute">other compute</span> '
        '<span class="distributed">distributed</span></p>\n'
        f"{graph_svg(plan)}\n</body></html>\n"
    )
    return page.encode("ascii", "xmlcharrefreplace").decode()  # the same bytes in any locale


def render_graph(plan: JobPlan, suffix: str) -> str:
    """The picture for a file name's suffix: ``.mmd`` Mermaid, ``.md`` Markdown, ``.html``."""
    renderers = {".mmd": graph_mermaid, ".md": graph_markdown, ".html": graph_html}
    return renderers[suffix.lower()](plan)
