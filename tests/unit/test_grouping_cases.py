"""Edge cases of grouping and planning: objects that cannot travel, and large cyclic groupings."""

from __future__ import annotations

import random
import time
from typing import Any

import pytest
from kedro.pipeline import node, pipeline

from kedro_azureml.compiler.compile import compile_pipeline
from kedro_azureml.compiler.explain import explain_plan
from kedro_azureml.compiler.grouping import NodeGroup, group_nodes, split_groups
from kedro_azureml.compiler.render import CompileOptions
from kedro_azureml.config import parse_config
from kedro_azureml.distributed import Framework, distributed_job
from kedro_azureml.errors import CompileError

ASSIGN = {"type": "MemoryDataset", "copy_mode": "assign"}
CATALOG: dict[str, dict[str, Any]] = {"conn": ASSIGN, "conn2": ASSIGN}


def _f(*args: Any) -> Any:
    return args[0] if args else None


@distributed_job(Framework.PyTorch, num_nodes=2)
def _train(*args: Any) -> Any:
    return args[0]


def _config():
    return parse_config(
        {
            "azure": {
                "resource_group": "rg",
                "workspace_name": "ws",
                "experiment_name": "exp",
                "compute": {"__default__": {"cluster_name": "cpu"}, "gpu": {"cluster_name": "g1"}},
                "environment_name": "env@latest",
            }
        }
    )


def _plan(pipe: Any, grouping: str):
    plan, _ = compile_pipeline(
        pipe, _config(), CompileOptions(code="."), CATALOG.get, grouping=grouping
    )
    return plan


def test_unread_object_that_cannot_travel_stays_in_memory() -> None:
    pipe = pipeline(
        [
            node(_f, None, "conn", name="make_lock"),
            node(_f, "conn", "x", name="use"),
            node(_f, None, "conn2", name="make_lock2"),
        ]
    )
    plan = _plan(pipe, "memory")
    assert plan.job_outputs == {"x": "x"}
    assert {s.name: s.outputs for s in plan.steps} == {"make_lock": {"x": "x"}, "make_lock2": {}}
    assert plan.datasets["conn2"].decision == "stays in memory: cannot travel and nothing reads it"
    assert "  conn2: stays in memory: cannot travel and nothing reads it" in explain_plan(plan)


@pytest.mark.parametrize(
    ("nodes", "grouping", "steps", "reason", "advice"),
    [
        pytest.param(
            [
                node(_f, None, "conn", name="open", tags=["gpu"]),
                node(_f, "conn", "x", name="query"),
            ],
            "memory",
            ("open", "query"),
            "'open' runs on compute 'gpu' and 'query' on '__default__'. ",
            "Give both nodes the same compute tag, or create the object in the node that reads it.",
            id="different-computes",
        ),
        pytest.param(
            [node(_f, None, "conn", name="open"), node(_train, "conn", "x", name="query")],
            "memory",
            ("open", "query"),
            "'query' is distributed, and a distributed node runs alone in its step. ",
            "Create the object in the node that reads it.",
            id="distributed-consumer",
        ),
        pytest.param(
            [
                node(_f, None, ["conn", "y"], name="open"),
                node(_f, "y", "z", name="between"),
                node(_f, ["conn", "z"], "x", name="query"),
            ],
            "memory",
            ("open", "query"),
            "node 'between' runs in another step between them, so one step holding both would "
            "wait for a step that waits for it. ",
            "Create the object in the node that reads it, or make it a dataset that can travel.",
            id="cycle-split",
        ),
        pytest.param(
            # {early, open, query} share objects; query waits for between, which waits for early
            [
                node(_f, None, ["conn2", "y"], name="early"),
                node(_f, "y", "z", name="between"),
                node(_f, None, "conn", name="open"),
                node(_f, ["conn", "conn2", "z"], "x", name="query"),
            ],
            "memory",
            ("early", "query"),
            "splitting a cycle between steps put them apart. ",
            "Create the object in the node that reads it, or make it a dataset that can travel.",
            id="cycle-split-elsewhere",
        ),
        pytest.param(
            [node(_f, None, "conn", name="open"), node(_f, "conn", "x", name="query")],
            "none",
            ("open", "query"),
            "the grouping strategy put them in different steps. ",
            "Group them with --group-by memory.",
            id="strategy-none",
        ),
        pytest.param(
            [
                node(_f, None, "conn", name="open", tags=["group.etl"]),
                node(_f, "conn", "x", name="query", tags=["group.report"]),
            ],
            "tag",
            ("etl", "report"),
            "the grouping strategy put them in different steps. ",
            "Group them with --group-by memory.",
            id="strategy-tag",
        ),
    ],
)
def test_object_that_cannot_travel_between_steps_is_a_compile_error(
    nodes: list[Any], grouping: str, steps: tuple[str, str], reason: str, advice: str
) -> None:
    with pytest.raises(CompileError) as raised:
        _plan(pipeline(nodes), grouping)
    assert str(raised.value) == (
        "Dataset 'conn' is declared with copy_mode: assign, so it cannot leave its process, "
        f"but node 'open' writes it in step '{steps[0]}' and node 'query' reads it in step "
        f"'{steps[1]}': {reason}{advice}"
    )


def test_memory_grouping_keeps_an_object_that_cannot_travel_in_its_step() -> None:
    pipe = pipeline(
        [node(_f, None, "conn", name="open"), node(_f, "conn", "x", name="query", tags=["gpu"])]
    )
    plan, _ = compile_pipeline(
        pipe,
        parse_config(
            {
                "azure": {
                    "resource_group": "rg",
                    "workspace_name": "ws",
                    "experiment_name": "exp",
                    "compute": {"__default__": {"cluster_name": "cpu"}},
                    "environment_name": "env@latest",
                }
            }
        ),
        CompileOptions(code="."),
        CATALOG.get,
        grouping="memory",
    )  # "gpu" is no compute alias here, so both nodes share the default compute
    assert [(s.name, s.node_names, s.inputs, s.outputs) for s in plan.steps] == [
        ("open", ("open", "query"), {}, {"x": "x"})
    ]
    assert plan.datasets["conn"].decision == "stays inside its step"


def _chain(length: int) -> Any:
    """Node i is tagged group.g<i % (length // 4)>: every group needs its steps split apart."""
    groups = length // 4
    return pipeline(
        [
            node(_f, f"d{i}", f"d{i + 1}", name=f"n{i}", tags=[f"group.g{i % groups}"])
            for i in range(length)
        ]
    )


def _assert_valid_steps(pipe: Any, proposed: list[NodeGroup], steps: list[NodeGroup]) -> None:
    """Steps come in an order where producers run first, and only share what was proposed."""
    step_of = {n.name: index for index, step in enumerate(steps) for n in step.nodes}
    assert sorted(step_of) == sorted(n.name for n in pipe.nodes)
    for child, parents in pipe.node_dependencies.items():
        for parent in parents:
            assert step_of[parent.name] <= step_of[child.name]
    proposed_of = {n.name: index for index, group in enumerate(proposed) for n in group.nodes}
    for step in steps:
        assert len({proposed_of[n.name] for n in step.nodes}) == 1
    order = {n.name: index for index, n in enumerate(pipe.nodes)}
    for step in steps:
        assert [order[n.name] for n in step.nodes] == sorted(order[n.name] for n in step.nodes)


@pytest.mark.parametrize("length", [8, 400, 2000], ids=lambda n: f"{n}-nodes")
def test_chain_through_every_group_is_split_into_a_dag(length: int) -> None:
    pipe = _chain(length)
    proposed = [NodeGroup(f"g{g}", tuple(pipe.nodes[g :: length // 4])) for g in range(length // 4)]
    steps = group_nodes(pipe, "tag")
    _assert_valid_steps(pipe, proposed, steps)
    assert len(steps) == length  # each node's group is entered again after it: all split
    assert steps[0].name == "n0" and steps[-1].name == f"n{length - 1}"


def test_five_thousand_node_chain_needs_no_recursion() -> None:
    pipe = _chain(5000)
    started = time.perf_counter()
    steps = group_nodes(pipe, "tag")
    print(f"\n5000-node chain, 1250 groups: {time.perf_counter() - started:.2f}s")
    assert len(steps) == 5000


@pytest.mark.parametrize("seed", range(20), ids=lambda seed: f"seed-{seed}")
def test_random_groupings_become_valid_steps(seed: int) -> None:
    rng = random.Random(seed)
    count = rng.randint(5, 60)
    nodes = []
    for i in range(count):
        inputs = sorted({f"d{rng.randrange(i)}" for _ in range(rng.randint(0, 3))} if i else set())
        nodes.append(node(_f, inputs or None, f"d{i}", name=f"n{i}"))
    pipe = pipeline(nodes)
    by_name = {n.name: n for n in pipe.nodes}
    members: dict[int, list[Any]] = {}
    for i in range(count):
        members.setdefault(rng.randrange(max(1, count // 4)), []).append(by_name[f"n{i}"])
    proposed = [NodeGroup(f"g{g}", tuple(nodes)) for g, nodes in sorted(members.items())]
    steps = split_groups(pipe, proposed)
    _assert_valid_steps(pipe, proposed, steps)
    assert split_groups(pipe, steps) == steps  # splitting valid steps changes nothing


@pytest.mark.parametrize(
    ("dataset", "message"),
    [
        ("conn", "no node produces it, and it is declared as MemoryDataset in the catalog"),
        ("undeclared", "no node produces it and the catalog does not declare it"),
    ],
)
def test_an_unproduced_memory_input_says_why_it_would_be_empty(dataset: str, message: str) -> None:
    pipe = pipeline([node(_f, dataset, "x", name="use")])
    with pytest.raises(CompileError, match=message):
        _plan(pipe, "none")
