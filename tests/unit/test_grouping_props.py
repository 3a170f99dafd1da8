"""Property: on any DAG, ``auto`` and ``chains`` give valid steps that never add a start."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from kedro.pipeline import node, pipeline

from kedro_azureml.compiler.grouping import group_nodes, is_distributed, split_groups
from kedro_azureml.distributed import Framework, distributed_job
from tests.support.properties import fuzz, starts_on_longest_chain


def _f(*args: Any) -> Any:
    return args[0] if args else None


@distributed_job(Framework.PyTorch, num_nodes=2)
def _train(*args: Any) -> Any:
    return args[0] if args else None


@st.composite
def dags(draw: st.DrawFn) -> Any:
    """A random pipeline: each node reads some earlier outputs (or a raw input), may be
    tagged for the gpu compute, and a few are distributed."""
    count = draw(st.integers(1, 40))
    nodes = []
    for i in range(count):
        reads = draw(st.sets(st.integers(0, i - 1), max_size=4)) if i else set()
        inputs = sorted(f"d{j}" for j in reads) or (["raw"] if draw(st.booleans()) else None)
        func = _train if draw(st.integers(0, 9)) == 0 else _f
        tags = ["gpu"] if draw(st.integers(0, 4)) == 0 else []
        nodes.append(node(func, inputs, f"d{i}", name=f"n{i}", tags=tags))
    return pipeline(nodes)


def _compute(n: Any) -> str:
    return "gpu" if "gpu" in n.tags else "__default__"


@fuzz(150)
@given(pipe=dags())
def test_auto_and_chains_are_valid_and_never_add_a_start(pipe: Any) -> None:
    baseline = group_nodes(pipe, "none", step_key=_compute)
    for strategy in ("auto", "chains"):
        steps = group_nodes(pipe, strategy, step_key=_compute)
        step_of = {n.name: index for index, step in enumerate(steps) for n in step.nodes}
        assert sorted(step_of) == sorted(n.name for n in pipe.nodes)  # each node once
        for child, parents in pipe.node_dependencies.items():
            for parent in parents:  # steps in an order where producers run first: acyclic
                assert step_of[parent.name] <= step_of[child.name]
        for step in steps:
            assert len({_compute(n) for n in step.nodes}) == 1
            assert len(step.nodes) == 1 or not any(is_distributed(n) for n in step.nodes)
            assert all(step.reason(n.name) for n in step.nodes)  # explain has a reason
        assert starts_on_longest_chain(pipe, steps) <= starts_on_longest_chain(pipe, baseline)
        assert len(steps) <= len(baseline)
        # The strategy made runnable steps itself: the safety net splits nothing.
        assert split_groups(pipe, steps, _compute) == steps
