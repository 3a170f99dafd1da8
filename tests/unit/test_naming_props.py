"""Property: no two nodes or datasets share a step or port name unless compile says so.

Azure ML names allow only ``[a-z_][a-z0-9_]*``, so Kedro names are sanitised, and grouping
names steps after namespaces, tags, nodes and split parts. Whatever the names, the plan's step
names and port names are valid and all different, every node runs in exactly one step, or
the compile fails with an error naming both clashing names.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kedro.pipeline import Pipeline, node

from kedro_azureml.compiler.compile import compile_pipeline
from kedro_azureml.compiler.grouping import GROUP_TAG_PREFIX, group_nodes
from kedro_azureml.compiler.naming import MAX_LENGTH, sanitize_name, unique_names
from kedro_azureml.compiler.plan import JobPlan, plan_job
from kedro_azureml.compiler.render import CompileOptions
from kedro_azureml.config import parse_config
from kedro_azureml.errors import CompileError
from tests.support.properties import MINIMAL_CONFIG, fuzz

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # Kedro: dots in dataset names

AZURE_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
CLASH = re.compile(r"The (?:step name|dataset)s '(.*)' and '(.*)' both become '(.*)' in Azure ML")
RAW = "raw_input"


def _f(*args: Any) -> int:
    return 1


# Pieces that sanitise alike ("A"/"a", "-"/"_"/"."), digits first, non-ASCII, the "_2" that
# numbering of split parts produces.
pieces = st.sampled_from(["a", "A", "a_2", "a-2", "b", "_", "1", ".", "-", "é", "K", "\u212a"])
kedro_names = st.lists(pieces, min_size=1, max_size=3).map("".join)
namespaces = st.sampled_from(["a", "A", "a_2", "a-2", "b"])
tags = st.sampled_from(["gpu", "group.a", "group.A", "group.a_2", "group.a-2", "group.1"])


@st.composite
def pipelines(draw: st.DrawFn) -> Pipeline:
    """A DAG of up to 8 nodes with clashing-prone node, namespace, tag and dataset names."""
    nodes, made, seen = [], [], set()
    for _ in range(draw(st.integers(1, 8))):
        namespace = draw(st.none() | namespaces)
        name = draw(kedro_names)
        full_name = f"{namespace}.{name}" if namespace else name
        if full_name in seen:
            continue
        seen.add(full_name)
        inputs = draw(st.lists(st.sampled_from(made), max_size=2, unique=True)) if made else []
        output = draw(kedro_names.filter(lambda d: d not in made and d != RAW))
        made.append(output)
        nodes.append(
            node(
                _f,
                inputs or [RAW],
                output,
                name=name,
                namespace=namespace,
                tags=draw(st.lists(tags, max_size=1)),
            )
        )
    return Pipeline(nodes)


def _catalog(dataset: str) -> dict[str, Any] | None:
    return {"type": "pandas.CSVDataset", "filepath": "data/raw.csv"} if dataset == RAW else None


def _plan(pipeline: Pipeline, strategy: str) -> JobPlan:
    groups = group_nodes(pipeline, strategy, _catalog)
    return plan_job(
        pipeline,
        pipeline_name="__default__",
        groups=groups,
        dataset_config=_catalog,
        compute_aliases={"__default__", "gpu"},
    )


@fuzz(120)
@given(pipeline=pipelines(), strategy=st.sampled_from(["none", "namespace", "tag"]))
def test_step_and_port_names_are_valid_and_distinct(pipeline: Pipeline, strategy: str) -> None:
    try:
        plan = _plan(pipeline, strategy)
    except CompileError as error:
        clash = CLASH.search(str(error))
        assert clash, str(error)
        first, second, azure = clash.groups()
        assert first != second
        assert sanitize_name(first) == sanitize_name(second) == azure
        return
    names = [step.name for step in plan.steps]
    assert len(names) == len(set(names)), names
    assert all(AZURE_NAME.match(name) and len(name) <= MAX_LENGTH for name in names)
    # Every node runs in exactly one step.
    assert sorted(n for step in plan.steps for n in step.node_names) == sorted(
        n.name for n in pipeline.nodes
    )
    dataset_of_port: dict[str, str] = {}
    for step in plan.steps:
        for dataset, port in (*step.inputs.items(), *step.outputs.items()):
            assert AZURE_NAME.match(port)
            assert dataset_of_port.setdefault(port, dataset) == dataset, port
    if strategy == "tag":  # nodes share a step only when they share a group tag
        by_name = {n.name: n for n in pipeline.nodes}
        for step in plan.steps:
            group_tags = {
                frozenset(t for t in by_name[n].tags if t.startswith(GROUP_TAG_PREFIX))
                for n in step.node_names
            }
            assert len(step.node_names) == 1 or (len(group_tags) == 1 and set() not in group_tags)


@fuzz(150)
@given(st.lists(st.one_of(st.text(max_size=12), st.text(min_size=250, max_size=260)), max_size=6))
def test_unique_names_is_injective_or_names_both(names: list[str]) -> None:
    """A CompileError exactly when two different names sanitise alike, naming two of them."""
    owners: dict[str, set[str]] = {}
    for name in names:
        owners.setdefault(sanitize_name(name), set()).add(name)
    clashes = {azure: sorted(group) for azure, group in owners.items() if len(group) > 1}
    try:
        mapping = unique_names(names, "dataset")
    except CompileError as error:
        assert any(
            f"The datasets '{first}' and '{second}' both become '{azure}' in Azure ML" in str(error)
            for azure, group in clashes.items()
            for first in group
            for second in group
            if first < second
        ), str(error)
        return
    assert not clashes
    assert set(mapping) == set(names)
    assert len(set(mapping.values())) == len(mapping)
    assert all(AZURE_NAME.match(value) and len(value) <= MAX_LENGTH for value in mapping.values())


def _node_names(plan: JobPlan) -> dict[str, tuple[str, ...]]:
    return {step.name: step.node_names for step in plan.steps}


def test_a_split_part_named_like_another_group_gets_its_own_step() -> None:
    """Found by the property above. Namespace 'a-2' holds 'a-2.a' and 'a-2.aa'; the node 'a-2'
    (no namespace) joins that group (Kedro's grouping) and is split off it, named after
    itself: two groups named 'a-2'. Before: both became step 'a_2', and compiling failed
    with the SDK's traceback "UnexpectedAttributeError: Got an unexpected attribute 'b'"."""
    pipeline = Pipeline(
        [
            node(_f, RAW, "a", name="a", namespace="a-2"),
            node(_f, RAW, "b", name="aa", namespace="a-2"),
            node(_f, "a", "aa", name="a"),
            node(_f, ["a", "aa"], "a_2", name="a-2"),
        ]
    )
    config = parse_config(MINIMAL_CONFIG)
    plan, job = compile_pipeline(pipeline, config, CompileOptions(), _catalog, grouping="namespace")
    assert _node_names(plan) == {
        "a_2": ("a-2.a", "a-2.aa"),
        "a": ("a",),
        "a_2_2": ("a-2",),
    }
    assert list(job.jobs) == ["a_2", "a", "a_2_2"]


def test_numbered_split_parts_do_not_blame_a_name_the_user_never_wrote() -> None:
    """Found by the property above. Namespace 'a' split by compute gave parts 'a' and 'a_2';
    with a namespace 'a-2' the compile failed with "The step names 'a-2' and 'a_2' both
    become 'a_2' ... Rename one of them", though no group was named 'a_2'."""
    pipeline = Pipeline(
        [
            node(_f, RAW, "d1", name="n1", namespace="a"),
            node(_f, "d1", "d2", name="n2", namespace="a"),
            node(_f, RAW, "d3", name="n3", namespace="a", tags=["gpu"]),
            node(_f, "d3", "d4", name="n4", namespace="a", tags=["gpu"]),
            node(_f, RAW, "d5", name="n5", namespace="a-2"),
        ]
    )
    assert _node_names(_plan(pipeline, "namespace")) == {
        "a_2": ("a-2.n5",),
        "a": ("a.n1", "a.n2"),
        "a_3": ("a.n3", "a.n4"),
    }


def test_an_untagged_node_named_like_a_group_runs_alone() -> None:
    """Found by the property above. Before: the untagged node 'etl' joined the nodes tagged
    'group.etl' in their step, though untagged nodes run alone."""
    pipeline = Pipeline(
        [
            node(_f, RAW, "x", name="load", tags=["group.etl"]),
            node(_f, "x", "y", name="clean", tags=["group.etl"]),
            node(_f, "y", "z", name="etl"),
        ]
    )
    assert _node_names(_plan(pipeline, "tag")) == {"etl": ("load", "clean"), "etl_2": ("etl",)}


def test_different_names_that_sanitise_alike_are_named_in_the_error() -> None:
    pipeline = Pipeline(
        [
            node(_f, RAW, "x", name="a", namespace="Prep"),
            node(_f, "x", "y", name="b", namespace="prep"),
        ]
    )
    with pytest.raises(CompileError, match="The step names 'Prep' and 'prep' both become 'prep'"):
        _plan(pipeline, "namespace")
