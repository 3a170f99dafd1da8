"""The default grouping (``auto``) and the strict ``chains``: starts on the longest chain first."""

from __future__ import annotations

import sys
from typing import Any

import pytest
import yaml
from kedro.pipeline import node, pipeline

from kedro_azureml.compiler.compile import plan_pipeline
from kedro_azureml.compiler.explain import explain_plan
from kedro_azureml.compiler.grouping import NodeGroup, group_nodes
from kedro_azureml.compiler.render import CompileOptions
from kedro_azureml.config import parse_config
from kedro_azureml.distributed import Framework, distributed_job
from tests.support.kedro_projects import EXAMPLE
from tests.support.properties import MINIMAL_CONFIG, starts_on_longest_chain
from tests.support.starter_project import STARTER_CATALOG, starter_pipelines


def _f(*args: Any) -> Any:
    return args[0] if args else None


@distributed_job(Framework.PyTorch, num_nodes=2)
def _train(*args: Any) -> Any:
    return args[0]


def _steps(groups: list[NodeGroup]) -> list[list[str]]:
    return [[n.name for n in group.nodes] for group in groups]


STARTER_CHAIN = [
    "create_model_input_table_node",
    "split_data_node",
    "train_model_node",
    "evaluate_model_node",
]


def _starter_names() -> dict[str, str]:
    """Kedro's own names of the starter's unnamed reporting nodes, by their output."""
    return {n.outputs[0]: n.name for n in starter_pipelines()["__default__"].nodes}


@pytest.mark.parametrize(
    ("strategy", "steps", "starts"),
    [
        pytest.param("none", 9, 5, id="none"),
        pytest.param("namespace", 9, 5, id="namespace"),  # no namespaces: one node per step
        pytest.param("chains", 6, 2, id="chains"),
        pytest.param("auto", 3, 2, id="auto"),
    ],
)
def test_the_starter_shape_by_strategy(strategy: str, steps: int, starts: int) -> None:
    pipe = starter_pipelines()["__default__"]
    groups = group_nodes(pipe, strategy)
    assert (len(groups), starts_on_longest_chain(pipe, groups)) == (steps, starts)


def test_auto_puts_the_starters_small_branches_beside_its_longest_chain() -> None:
    pipe = starter_pipelines()["__default__"]
    name = _starter_names()
    groups = group_nodes(pipe, "auto")
    # The two preprocessing nodes stay on two machines (the longest chain needs both); the
    # reports join a step they read from or start beside; the training chain is one step.
    assert sorted(map(sorted, _steps(groups))) == sorted(
        [
            sorted([name["dummy_confusion_matrix"], "preprocess_companies_node"]),
            sorted(
                [
                    "preprocess_shuttles_node",
                    name["shuttle_passenger_capacity_plot_exp"],
                    name["shuttle_passenger_capacity_plot_go"],
                ]
            ),
            sorted(STARTER_CHAIN),
        ]
    )
    assert [group.name for group in groups] == [
        "preprocess_companies_node",  # named after its node on the longest chain
        "preprocess_shuttles_node",
        "create_model_input_table_node",
    ]


def test_the_default_grouping_compiles_the_starter_to_three_steps_and_says_why() -> None:
    pipe = starter_pipelines()["__default__"]
    catalog = yaml.safe_load(STARTER_CATALOG)
    plan = plan_pipeline(pipe, parse_config(MINIMAL_CONFIG), CompileOptions(), catalog.get)
    assert len(plan.steps) == 3
    explained = explain_plan(plan)
    assert "Pipeline '__default__': 3 Azure ML steps, 2 starts on the longest chain" in explained
    assert (
        "    - split_data_node  (chain: reads from the step of 'create_model_input_table_node'; "
        "whatever else reads that step waits for this node anyway)"
    ) in explained
    exp = _starter_names()["shuttle_passenger_capacity_plot_exp"]
    assert (
        f"    - {exp}  (small branch (off the longest chain of nodes): reads from the step of "
        "'preprocess_shuttles_node')"
    ) in explained
    assert (
        "    - create_model_input_table_node  (starts a step: reads from 2 steps that start at "
        "the same point of their chains; joining one would make it wait for the others)"
    ) in explained


def test_the_example_project_keeps_its_namespace_grouping(monkeypatch) -> None:
    monkeypatch.syspath_prepend(str(EXAMPLE / "src"))
    for module in [m for m in sys.modules if m.partition(".")[0] == "spaceflights"]:
        monkeypatch.delitem(sys.modules, module)
    from spaceflights.pipeline_registry import register_pipelines

    pipe = register_pipelines()["__default__"]
    by_namespace = group_nodes(pipe, "namespace")
    groups = group_nodes(pipe, "auto")
    assert _steps(groups) == _steps(by_namespace)
    assert [group.name for group in groups] == ["data_processing", "data_science"]
    assert starts_on_longest_chain(pipe, groups) == 2
    assert groups[0].reason("data_processing.preprocess_companies_node") == (
        "auto (the pipeline has namespaces): namespace 'data_processing'"
    )


@pytest.mark.parametrize(
    ("nodes", "auto", "chains"),
    [
        pytest.param(
            [
                node(_f, "raw", "a", name="a"),
                node(_f, "a", "b", name="b"),
                node(_f, "b", "c", name="c"),
            ],
            [["a", "b", "c"]],
            [["a", "b", "c"]],
            id="chain",
        ),
        pytest.param(
            # c reads a and b: b's other reader waits for b anyway, so nothing is held back
            [
                node(_f, "raw", "a", name="a"),
                node(_f, "a", "b", name="b"),
                node(_f, ["a", "b"], "c", name="c"),
            ],
            [["a", "b", "c"]],
            [["a", "b", "c"]],
            id="triangle",
        ),
        pytest.param(
            # two branches as long as each other: both on the longest chain, two machines
            [
                node(_f, "raw", "s", name="s"),
                node(_f, "s", "x1", name="x1"),
                node(_f, "x1", "x2", name="x2"),
                node(_f, "s", "y1", name="y1"),
                node(_f, "y1", "y2", name="y2"),
            ],
            [["s"], ["x1", "x2"], ["y1", "y2"]],
            [["s"], ["x1", "x2"], ["y1", "y2"]],
            id="equal-branches-stay-parallel",
        ),
        pytest.param(
            # a short report off the longest chain joins the step it reads; then the chain
            # fuses too: one start instead of two
            [
                node(_f, "raw", "s", name="s"),
                node(_f, "s", "x1", name="x1"),
                node(_f, "x1", "x2", name="x2"),
                node(_f, "s", "report", name="report"),
            ],
            [["s", "report", "x1", "x2"]],
            [["s"], ["report"], ["x1", "x2"]],
            id="small-branch-joins-its-producer",
        ),
        pytest.param(
            # independent pipelines: the shorter one starts beside the longer one
            [
                node(_f, "raw", "a1", name="a1"),
                node(_f, "a1", "a2", name="a2"),
                node(_f, "other", "b1", name="b1"),
            ],
            [["a1", "b1", "a2"]],
            [["a1", "a2"], ["b1"]],
            id="small-branch-starts-beside",
        ),
    ],
)
def test_auto_and_chains_on_small_shapes(
    nodes: list[Any], auto: list[list[str]], chains: list[list[str]]
) -> None:
    pipe = pipeline(nodes)
    assert _steps(group_nodes(pipe, "auto")) == auto
    assert _steps(group_nodes(pipe, "chains")) == chains


def test_auto_never_shares_a_step_across_computes_or_with_a_distributed_node() -> None:
    pipe = pipeline(
        [
            node(_f, "raw", "a", name="a"),
            node(_f, "a", "b", name="b", tags=["gpu"]),
            node(_f, "b", "c", name="c", tags=["gpu"]),
            node(_train, "c", "d", name="train"),
            node(_f, "d", "e", name="e"),
            node(_f, "raw", "side", name="side"),
        ]
    )
    groups = group_nodes(
        pipe, "auto", step_key=lambda n: "gpu" if "gpu" in n.tags else "__default__"
    )
    assert _steps(groups) == [["a", "side"], ["b", "c"], ["train"], ["e"]]
    assert groups[2].reason("train") == "distributed: runs alone in its step"
    assert groups[1].reason("b") == (
        "starts a step: runs on another compute than the step it reads from"
    )


def test_a_wide_fan_out_of_equal_branches_keeps_a_machine_per_branch() -> None:
    uses = [node(_f, "shared", f"use_{i}", name=f"use_{i}") for i in range(40)]
    pipe = pipeline([node(_f, "raw", "shared", name="source"), *uses])
    groups = group_nodes(pipe, "auto")
    assert len(groups) == 41 and starts_on_longest_chain(pipe, groups) == 2


def test_explain_says_why_a_proposed_group_was_split() -> None:
    pipe = pipeline(
        [
            node(_f, "raw", "ns.a", name="a", namespace="ns", tags=["gpu"]),
            node(_f, "raw", "ns.b", name="b", namespace="ns"),
            node(_f, "raw", "x", name="first", tags=["group.g"]),
            node(_f, "x", "y", name="middle"),
            node(_f, "y", "z", name="last", tags=["group.g"]),
        ]
    )
    by_compute = group_nodes(
        pipe, "namespace", step_key=lambda n: "gpu" if "gpu" in n.tags else "__default__"
    )
    reasons = {n.name: group.reason(n.name) for group in by_compute for n in group.nodes}
    assert reasons["ns.a"] == "namespace 'ns'; split from 'ns' by compute"
    assert reasons["middle"] == "namespace: has no namespace, so runs alone"
    by_tag = group_nodes(pipe, "tag")
    reasons = {n.name: group.reason(n.name) for group in by_tag for n in group.nodes}
    assert reasons["last"] == (
        "tag 'group.g'; split from 'g' so that no two steps wait for each other"
    )
    assert reasons["middle"] == "no group tag"
