"""The step plan: which nodes form which Azure ML step, and which data crosses between steps.

Built in one pass over the pipeline's nodes with dictionaries of producers and consumers, so
planning stays linear in the number of nodes and datasets.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kedro_azureml.compiler.grouping import NodeGroup, cannot_travel, split_groups
from kedro_azureml.compiler.naming import unique_names
from kedro_azureml.config import DEFAULT_COMPUTE
from kedro_azureml.datasets.assets import AssetSpec, asset_spec
from kedro_azureml.errors import CompileError
from kedro_azureml.routing import DatasetRoute, Route, route_dataset

DETERMINISTIC_TAG = "deterministic"


@dataclass(frozen=True)
class StepPlan:
    name: str
    node_names: tuple[str, ...]
    inputs: dict[str, str]  # Kedro dataset -> Azure ML port name
    outputs: dict[str, str]
    compute: str  # compute alias from azureml.yml
    deterministic: bool = False
    distribution: Any = None  # a DistributedSpec, for distributed nodes


@dataclass(frozen=True)
class DatasetDecision:
    name: str
    route: DatasetRoute
    decision: str  # what the compiler does with it, for `compile --explain`
    producer: str | None = None
    consumers: tuple[str, ...] = ()


@dataclass
class JobPlan:
    pipeline_name: str
    steps: list[StepPlan]
    job_outputs: dict[str, str]  # Kedro dataset -> Azure ML job output name
    datasets: dict[str, DatasetDecision] = field(default_factory=dict)
    assets: dict[str, AssetSpec] = field(default_factory=dict)  # Azure ML data assets

    def producer_of(self) -> dict[str, str]:
        return {dataset: step.name for step in self.steps for dataset in step.outputs}


def compute_alias(node: Any, aliases: set[str]) -> str:
    chosen = sorted(set(node.tags) & aliases)
    if len(chosen) > 1:
        raise CompileError(
            f"Node '{node.name}' has the tags {', '.join(chosen)}, which are all compute "
            "aliases in azureml.yml. Keep one compute tag per node."
        )
    return chosen[0] if chosen else DEFAULT_COMPUTE


def plan_job(
    pipeline: Any,
    *,
    pipeline_name: str,
    groups: Sequence[NodeGroup],
    dataset_config: Callable[[str], dict[str, Any] | None],
    compute_aliases: set[str],
    distribution_of: Callable[[Any], Any] = lambda node: None,
    asset_versions: Mapping[str, str] | None = None,
) -> JobPlan:
    """Turn node groups (each one future step) into steps wired by the datasets they share.

    Groups are first split where their nodes need different computes, where a node is
    distributed, or where steps would wait for each other (see ``split_groups``), so any
    grouping given here yields a valid job.
    """
    aliases = compute_aliases - {DEFAULT_COMPUTE}
    groups = split_groups(pipeline, groups, lambda node: compute_alias(node, aliases))
    step_names = unique_names((group.name for group in groups), "step name")
    step_of_node = {node.name: step_names[group.name] for group in groups for node in group.nodes}

    producer: dict[str, str] = {}
    consumers: dict[str, set[str]] = {}
    for node in pipeline.nodes:
        for dataset in node.outputs:
            producer[dataset] = step_of_node[node.name]
        for dataset in node.inputs:
            consumers.setdefault(dataset, set()).add(step_of_node[node.name])

    decisions: dict[str, DatasetDecision] = {}
    crossing: set[str] = set()
    job_outputs: set[str] = set()
    assets: dict[str, AssetSpec] = {}
    asset_ports: set[str] = set()  # asset inputs of the job, and asset versions it registers
    for dataset in sorted(set(producer) | set(consumers)):
        config = dataset_config(dataset)
        route = route_dataset(dataset, config)
        source = producer.get(dataset)
        readers = consumers.get(dataset, set())
        decision = _decide(dataset, route, source, readers)
        if route.route is Route.ASSET and config is not None:
            spec = asset_spec(config, (asset_versions or {}).get(dataset))
            assets[dataset] = spec
            asset_ports.add(dataset)
            decision = (
                f"Azure ML data asset, mounted as {spec.input_path}"
                if source is None
                else f"registered as a new version of data asset {spec.name}"
                + ("; mounted by the steps that read it" if readers - {source} else "")
            )
        if source is not None and readers - {source} and cannot_travel(config):
            decision += " (declared copy_mode: assign: group its nodes with --group-by memory)"
        if source is not None and readers - {source}:
            crossing.add(dataset)
        elif source is not None and not readers and route.can_travel:
            job_outputs.add(dataset)
        decisions[dataset] = DatasetDecision(
            dataset, route, decision, source, tuple(sorted(readers))
        )

    ports = unique_names(crossing | job_outputs | asset_ports, "dataset")
    steps = []
    for group in groups:
        name = step_names[group.name]
        made = {d for node in group.nodes for d in node.outputs}
        read = {d for node in group.nodes for d in node.inputs} - made
        distributions = [distribution_of(node) for node in group.nodes]
        steps.append(
            StepPlan(
                name=name,
                node_names=tuple(node.name for node in group.nodes),
                inputs={d: ports[d] for d in sorted(read & (crossing | asset_ports))},
                outputs={
                    d: ports[d] for d in sorted(made & (crossing | job_outputs | asset_ports))
                },
                compute=compute_alias(group.nodes[0], aliases),  # the same for the group
                deterministic=all(DETERMINISTIC_TAG in node.tags for node in group.nodes),
                distribution=next((d for d in distributions if d is not None), None),
            )
        )
    return JobPlan(
        pipeline_name=pipeline_name,
        steps=steps,
        job_outputs={d: ports[d] for d in sorted(job_outputs)},
        datasets=decisions,
        assets=assets,
    )


def _decide(dataset: str, route: DatasetRoute, source: str | None, readers: set[str]) -> str:
    if route.route is Route.PARAMETER:
        return "not data: passed as a parameter"
    if source is None:
        if route.route is Route.MEMORY:
            raise CompileError(
                f"Dataset '{dataset}' is read by the pipeline but no node produces it and the "
                "catalog does not declare it. Add it to conf/base/catalog.yml."
            )
        if route.route is Route.LOCAL_FILE:
            return "pipeline input: comes with the code snapshot or image"
        return "pipeline input: read in place"
    if not readers:
        return "job output" if route.can_travel else "pipeline output: written in place"
    if readers == {source}:
        return "stays inside its step"
    if route.route is Route.IN_PLACE:
        return "written and read in place; an empty output orders the steps"
    return "travels through the producing step's output folder"
