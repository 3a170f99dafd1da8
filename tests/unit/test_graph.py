"""``compile --graph``: Mermaid text and the SVG page, drawn from a step plan."""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from kedro.pipeline import node, pipeline

from kedro_azureml.compiler.compile import plan_pipeline
from kedro_azureml.compiler.graph import (
    graph_html,
    graph_markdown,
    graph_mermaid,
    graph_svg,
    render_graph,
    step_edges,
)
from kedro_azureml.compiler.plan import JobPlan, StepPlan
from kedro_azureml.compiler.render import CompileOptions
from kedro_azureml.config import parse_config
from kedro_azureml.distributed.config import Framework
from kedro_azureml.distributed.spec import DistributedSpec


def _f(*args: Any) -> Any:
    return args[0]


def _plan() -> JobPlan:
    config = parse_config(
        {
            "azure": {
                "resource_group": "rg",
                "workspace_name": "ws",
                "experiment_name": "exp",
                "compute": {
                    "__default__": {"cluster_name": "cpu"},
                    "chunky": {"cluster_name": "cpu-8"},
                },
                "environment_name": "env@latest",
            }
        }
    )
    pipe = pipeline(
        [
            node(_f, "raw", "a", name="make_a", tags=["chunky"]),
            node(_f, "a", "b", name="make_b"),
            node(_f, "a", "c", name="make_c"),
            node(_f, ["b", "c", "a"], "final", name="combine"),
        ]
    )
    catalog = {"raw": {"type": "pandas.CSVDataset", "filepath": "data/01_raw/raw.csv"}}
    return plan_pipeline(pipe, config, CompileOptions(), catalog.get, grouping="none")


def _distributed_plan() -> JobPlan:
    spec = DistributedSpec(Framework.PyTorch, num_nodes=2, processes_per_node=2)
    steps = [
        StepPlan("prepare", ('prep <x> & "y"',), {}, {"X": "x"}, "__default__"),
        StepPlan("train", ("train_node",), {"X": "x"}, {}, "gpu", distribution=spec),
    ]
    return JobPlan("training", steps, job_outputs={})


def test_edges_carry_the_datasets_between_steps() -> None:
    edges = {(edge.source, edge.target): edge.datasets for edge in step_edges(_plan())}
    assert edges == {
        ("make_a", "make_b"): ("a",),
        ("make_a", "make_c"): ("a",),
        ("make_a", "combine"): ("a",),
        ("make_b", "combine"): ("b",),
        ("make_c", "combine"): ("c",),
    }


def test_mermaid_lists_nodes_marks_compute_and_labels_edges() -> None:
    text = graph_mermaid(_plan())
    assert text.startswith("flowchart TD\n")
    assert '    s0["<b>make_a</b><br/><i>compute: chunky</i><br/>make_a"]' in text
    assert '    s0 -->|"a"| s1' in text
    assert "    class s0 compute" in text
    assert "class s1" not in text  # default compute: not marked


def test_mermaid_escapes_what_would_end_a_label_and_marks_distributed() -> None:
    text = graph_mermaid(_distributed_plan())
    assert "prep #lt;x#gt; #amp; #quot;y#quot;" in text
    assert "<i>distributed: pytorch x4 (2 nodes)</i>" in text
    assert "<i>compute: gpu</i>" in text
    assert "    class s1 distributed" in text
    assert '"y"' not in text


def test_markdown_wraps_mermaid_in_a_fence() -> None:
    text = graph_markdown(_plan())
    assert "```mermaid\nflowchart TD\n" in text and text.endswith("```\n")


def test_svg_is_well_formed_with_a_box_per_step_in_layers() -> None:
    svg = graph_svg(_plan())
    root = ET.fromstring(svg)
    ns = {"svg": "http://www.w3.org/2000/svg"}
    groups = root.findall("svg:g[@class]", ns)
    steps = {g.get("data-step"): g for g in groups if "step" in (g.get("class") or "")}
    assert list(steps) == ["make_a", "make_b", "make_c", "combine"]
    assert steps["make_a"].get("class") == "step compute"

    def top(name: str) -> float:
        return float(steps[name].find("svg:rect", ns).get("y"))  # type: ignore[union-attr]

    assert top("make_a") < top("make_b") == top("make_c") < top("combine")
    assert len(root.findall("svg:path[@class='edge']", ns)) == 5


def test_html_page_is_self_contained() -> None:
    page = graph_html(_distributed_plan())
    assert page.isascii()
    assert "<script" not in page and not re.search(r"(src|href)=\"https?:", page)
    assert 'class="step distributed"' in page and "prep &lt;x&gt;" in page


@pytest.mark.parametrize(
    ("suffix", "start"),
    [(".mmd", "flowchart TD"), (".MD", "# Pipeline"), (".html", "<!DOCTYPE html>")],
    ids=["mermaid", "markdown", "html"],
)
def test_suffix_picks_the_form(suffix: str, start: str) -> None:
    assert render_graph(_plan(), suffix).startswith(start)


def test_an_edge_that_skips_a_layer_goes_round_the_boxes_between() -> None:
    root = ET.fromstring(graph_svg(_plan()))
    ns = {"svg": "http://www.w3.org/2000/svg"}
    paths = [p.get("d", "") for p in root.findall("svg:path[@class='edge']", ns)]
    detours = [d for d in paths if " L " in d]
    assert len(detours) == 1  # make_a -> combine, past make_b and make_c
    side_x = float(detours[0].split(" L ")[1].split()[0])
    middle_row = [
        g.find("svg:rect", ns)
        for g in root.findall("svg:g[@class]", ns)
        if g.get("data-step") in ("make_b", "make_c")
    ]
    assert all(
        side_x > float(r.get("x", 0)) + float(r.get("width", 0))
        for r in middle_row
        if r is not None
    )
    labels = [g.find("svg:rect", ns) for g in root if g.get("class") == "edge-label"]
    spans = [(float(r.get("x", 0)), float(r.get("y", 0))) for r in labels if r is not None]
    assert len(spans) == 5
    assert len(set(spans)) == len(spans)  # no two labels on the same spot


def test_a_thousand_steps_draw_quickly() -> None:
    """Labels are only checked against their own gap's: drawing stays about linear."""
    steps = [
        StepPlan(
            f"s_{layer}_{i}",
            (f"node_{layer}_{i}",),
            {f"d_{layer - 1}_{j}": f"p{j}" for j in (i, (i + 1) % 10)} if layer else {},
            {f"d_{layer}_{i}": "o"},
            "__default__",
        )
        for layer in range(100)
        for i in range(10)
    ]
    started = time.perf_counter()
    page = graph_html(JobPlan("big", steps, job_outputs={}))
    assert time.perf_counter() - started < 10  # about 0.3 s here; generous for busy machines
    assert page.count('class="edge"') == 99 * 20
