"""The step plan: which nodes form which Azure ML step, and which data crosses between steps.

Built in one pass over the pipeline's nodes with dictionaries of producers and consumers, so
planning stays linear in the number of nodes and datasets.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kedro_azureml.compiler.grouping import NodeGroup, group_nodes, is_distributed, split_groups
from kedro_azureml.compiler.naming import unique_names, unique_step_names
from kedro_azureml.config import DEFAULT_COMPUTE
from kedro_azureml.contract.assets import AssetSpec, asset_spec
from kedro_azureml.contract.routing import DatasetRoute, Route, cannot_travel, route_dataset
from kedro_azureml.errors import CompileError

if TYPE_CHECKING:
    from kedro.pipeline import Pipeline
    from kedro.pipeline.node import Node

    from kedro_azureml.distributed.spec import DistributedSpec

DETERMINISTIC_TAG = "deterministic"


@dataclass(frozen=True)
class StepPlan:
    """One future Azure ML step, in Kedro's terms: which nodes it runs, what it reads and writes.

    Plain values, no SDK objects: ``compile --explain``, the tests and the renderer all read
    the same plan, and it can be checked without importing azure-ai-ml.
    """

    name: str  # the Azure ML step name (sanitised, unique in the job)
    node_names: tuple[str, ...]  # in the order the step runs them
    inputs: dict[str, str]  # Kedro dataset -> Azure ML port name
    outputs: dict[str, str]
    compute: str  # compute alias from azureml.yml
    deterministic: bool = False  # every node tagged "deterministic": Azure ML may reuse it
    distribution: DistributedSpec | None = None  # for a distributed node (always alone)
    reasons: tuple[str, ...] = ()  # why each node runs in this step, as node_names


@dataclass(frozen=True)
class DatasetDecision:
    name: str
    route: DatasetRoute
    decision: str  # what the compiler does with it, for `compile --explain`
    producer: str | None = None
    consumers: tuple[str, ...] = ()


@dataclass
class JobPlan:
    """The whole job in Kedro's terms: its steps in a topological order, and why each dataset
    travels as it does.

    The decisions are made here once, so the YAML, ``compile --explain`` and ``run --local``
    never disagree about which data crosses which step boundary.
    """

    pipeline_name: str
    steps: list[StepPlan]
    job_outputs: dict[str, str]  # Kedro dataset -> Azure ML job output name
    datasets: dict[str, DatasetDecision] = field(default_factory=dict)
    assets: dict[str, AssetSpec] = field(default_factory=dict)  # Azure ML data assets

    def producer_of(self) -> dict[str, str]:
        return {dataset: step.name for step in self.steps for dataset in step.outputs}

    def starts_on_longest_chain(self) -> int:
        """How many steps start one after another on the longest chain of steps: on Azure ML
        each start costs a container (often a machine), so this is what a run waits for."""
        producer = self.producer_of()
        level: dict[str, int] = {}
        for step in self.steps:  # in a topological order
            sources = {producer[d] for d in step.inputs if d in producer} - {step.name}
            level[step.name] = 1 + max((level[s] for s in sources), default=0)
        return max(level.values(), default=0)


def compute_alias(node: Node, aliases: set[str]) -> str:
    chosen = sorted(set(node.tags) & aliases)
    if len(chosen) > 1:
        raise CompileError(
            f"Node '{node.name}' has the tags {', '.join(chosen)}, which are all compute "
            "aliases in azureml.yml. Keep one compute tag per node."
        )
    return chosen[0] if chosen else DEFAULT_COMPUTE


def plan_job(
    pipeline: Pipeline,
    *,
    pipeline_name: str,
    groups: Sequence[NodeGroup],
    dataset_config: Callable[[str], dict[str, Any] | None],
    compute_aliases: set[str],
    distribution_of: Callable[[Node], DistributedSpec | None] = lambda node: None,
    asset_versions: Mapping[str, str] | None = None,
) -> JobPlan:
    """Turn node groups (each one future step) into steps wired by the datasets they share.

    Groups are first split where their nodes need different computes, where a node is
    distributed, or where steps would wait for each other (see ``split_groups``), so any
    grouping given here yields a valid job, unless a dataset that cannot travel (``copy_mode:
    assign``) ends up between two steps: that is a CompileError saying why and what to do.
    """
    aliases = compute_aliases - {DEFAULT_COMPUTE}

    def compute_of(node: Node) -> str:
        return compute_alias(node, aliases)

    groups = split_groups(pipeline, groups, compute_of)
    step_names = unique_step_names([group.name for group in groups])
    named = list(zip(groups, step_names, strict=True))
    step_of_node = {node.name: name for group, name in named for node in group.nodes}
    flow = _DataFlow.of(pipeline, step_of_node)
    wiring = _Wiring()
    for dataset in flow.datasets():
        config = dataset_config(dataset)
        source, readers = flow.producer.get(dataset), flow.readers(dataset)
        if cannot_travel(config) and source is not None and readers - {source}:
            writer, reader = flow.split_pair(pipeline, dataset)
            reason, advice = _why_apart(pipeline, writer, reader, compute_of, dataset_config)
            raise CompileError(
                f"Dataset '{dataset}' is declared with copy_mode: assign, so it cannot leave its "
                f"process, but node '{writer.name}' writes it in step '{source}' and "
                f"node '{reader.name}' reads it in step '{step_of_node[reader.name]}': "
                f"{reason}. {advice}"
            )
        wiring.add(dataset, config, source, readers, (asset_versions or {}).get(dataset))
    ports = wiring.ports()
    # Built once: a union per step would cost steps x datasets (quadratic on a 5000-node chain).
    step_inputs = wiring.crossing | set(wiring.assets)
    step_outputs = step_inputs | wiring.job_outputs
    return JobPlan(
        pipeline_name=pipeline_name,
        steps=[
            _step_plan(name, group, (step_inputs, step_outputs), ports, aliases, distribution_of)
            for group, name in named
        ],
        job_outputs={d: ports[d] for d in sorted(wiring.job_outputs)},
        datasets=wiring.decisions,
        assets=wiring.assets,
    )


@dataclass(frozen=True)
class _DataFlow:
    """Which step writes each dataset, and which steps read it."""

    producer: dict[str, str]
    consumers: dict[str, set[str]]
    step_of_node: dict[str, str]

    @classmethod
    def of(cls, pipeline: Pipeline, step_of_node: dict[str, str]) -> _DataFlow:
        producer: dict[str, str] = {}
        consumers: dict[str, set[str]] = {}
        for node in pipeline.nodes:
            for dataset in node.outputs:
                producer[dataset] = step_of_node[node.name]
            for dataset in node.inputs:
                consumers.setdefault(dataset, set()).add(step_of_node[node.name])
        return cls(producer, consumers, step_of_node)

    def datasets(self) -> list[str]:
        return sorted(set(self.producer) | set(self.consumers))

    def readers(self, dataset: str) -> set[str]:
        return self.consumers.get(dataset, set())

    def split_pair(self, pipeline: Pipeline, dataset: str) -> tuple[Node, Node]:
        """The node writing ``dataset`` and one reading it in another step.

        Only on the way to an error: looked up here, not on every compile.
        """
        source = self.producer[dataset]
        writer = next(n for n in pipeline.nodes if dataset in n.outputs)
        reader = next(
            n for n in pipeline.nodes if dataset in n.inputs and self.step_of_node[n.name] != source
        )
        return writer, reader


@dataclass
class _Wiring:
    """What the compiler does with each dataset, and so which ports the steps get."""

    decisions: dict[str, DatasetDecision] = field(default_factory=dict)
    crossing: set[str] = field(default_factory=set)  # written in one step, read in another
    job_outputs: set[str] = field(default_factory=set)  # written, read by no step, can travel
    assets: dict[str, AssetSpec] = field(default_factory=dict)  # mounted or registered

    def add(
        self,
        dataset: str,
        config: dict[str, Any] | None,
        source: str | None,
        readers: set[str],
        asset_version: str | None,
    ) -> None:
        route = route_dataset(dataset, config)
        stays = cannot_travel(config)  # e.g. a connection or a lock: it must stay in memory
        decision = _decide(dataset, route, source, readers, stays)
        if route.route is Route.ASSET and config is not None:
            spec = asset_spec(config, asset_version)
            self.assets[dataset] = spec
            decision = _asset_decision(spec, source, readers)
        if source is not None and readers - {source}:
            self.crossing.add(dataset)
        elif source is not None and not readers and route.can_travel and not stays:
            self.job_outputs.add(dataset)
        self.decisions[dataset] = DatasetDecision(
            dataset, route, decision, source, tuple(sorted(readers))
        )

    def ports(self) -> dict[str, str]:
        """A unique Azure ML port name for every dataset that becomes a step input or output."""
        return unique_names(self.crossing | self.job_outputs | set(self.assets), "dataset")


def _asset_decision(spec: AssetSpec, source: str | None, readers: set[str]) -> str:
    if source is None:
        return f"Azure ML data asset, mounted as {spec.input_path}"
    mounted = "; mounted by the steps that read it" if readers - {source} else ""
    return f"registered as a new version of data asset {spec.name}{mounted}"


def _step_plan(
    name: str,
    group: NodeGroup,
    travelling: tuple[set[str], set[str]],  # datasets a step may read, and may write, as ports
    ports: dict[str, str],
    aliases: set[str],
    distribution_of: Callable[[Node], DistributedSpec | None],
) -> StepPlan:
    made = {d for node in group.nodes for d in node.outputs}
    read = {d for node in group.nodes for d in node.inputs} - made
    step_inputs, step_outputs = travelling
    distributions = [distribution_of(node) for node in group.nodes]
    return StepPlan(
        name=name,
        node_names=tuple(node.name for node in group.nodes),
        inputs={d: ports[d] for d in sorted(read & step_inputs)},
        outputs={d: ports[d] for d in sorted(made & step_outputs)},
        compute=compute_alias(group.nodes[0], aliases),  # the same for the group
        deterministic=all(DETERMINISTIC_TAG in node.tags for node in group.nodes),
        distribution=next((d for d in distributions if d is not None), None),
        reasons=tuple(group.reason(node.name) for node in group.nodes),
    )


def _decide(
    dataset: str, route: DatasetRoute, source: str | None, readers: set[str], stays: bool
) -> str:
    if route.route is Route.PARAMETER:
        return "not data: passed as a parameter"
    if source is None:
        if route.route is Route.MEMORY and route.in_catalog:
            raise CompileError(
                f"Dataset '{dataset}' is read by the pipeline but no node produces it, and it is "
                f"{route.reason} in the catalog: it would be empty in every step. Produce it in "
                "a node, or declare it with a file path in conf/base/catalog.yml."
            )
        if route.route is Route.MEMORY:
            raise CompileError(
                f"Dataset '{dataset}' is read by the pipeline but no node produces it and the "
                "catalog does not declare it. Add it to conf/base/catalog.yml."
            )
        if route.route is Route.LOCAL_FILE:
            return "pipeline input: comes with the code snapshot or image"
        return "pipeline input: read in place"
    if not readers:
        if stays:
            return "stays in memory: cannot travel and nothing reads it"
        if route.route is Route.MLFLOW_RUN:
            return "pipeline output: logged to its step's MLflow run"
        return "job output" if route.can_travel else "pipeline output: written in place"
    if readers == {source}:
        return "stays inside its step"
    if route.route is Route.IN_PLACE:
        return "written and read in place; an empty output orders the steps"
    if route.route is Route.MLFLOW_RUN:
        return "logged to the producing step's MLflow run; that run's id travels to the readers"
    return "travels through the producing step's output folder"


def _why_apart(
    pipeline: Pipeline,
    writer: Node,
    reader: Node,
    compute_of: Callable[[Node], str],
    dataset_config: Callable[[str], dict[str, Any] | None],
) -> tuple[str, str]:
    """Why two nodes sharing an object that cannot travel run in different steps, and what to do.

    Only called to explain an error, so it may regroup the whole pipeline: ``memory`` grouping
    keeps the two nodes together unless a compute, a distributed node or a cycle parts them.
    """
    create = "create the object in the node that reads it"
    if compute_of(writer) != compute_of(reader):
        return (
            f"'{writer.name}' runs on compute '{compute_of(writer)}' and '{reader.name}' on "
            f"'{compute_of(reader)}'",
            f"Give both nodes the same compute tag, or {create}.",
        )
    distributed = next((n for n in (writer, reader) if is_distributed(n)), None)
    if distributed is not None:
        return (
            f"'{distributed.name}' is distributed, and a distributed node runs alone in its step",
            f"{create.capitalize()}.",
        )
    by_memory = split_groups(pipeline, group_nodes(pipeline, "memory", dataset_config), compute_of)
    memory_step = {
        node.name: index for index, group in enumerate(by_memory) for node in group.nodes
    }
    if memory_step[writer.name] == memory_step[reader.name]:
        return (
            "the grouping strategy put them in different steps",
            "Group them with --group-by memory.",
        )
    advice = f"{create.capitalize()}, or make it a dataset that can travel."
    between = _nodes_between(pipeline, writer, reader)
    elsewhere = [
        node
        for node in pipeline.nodes
        if node.name in between
        and memory_step[node.name] not in (memory_step[writer.name], memory_step[reader.name])
    ]
    if elsewhere:
        return (
            f"node '{elsewhere[0].name}' runs in another step between them, so one step holding "
            "both would wait for a step that waits for it",
            advice,
        )
    return "splitting a cycle between steps put them apart", advice


def _nodes_between(pipeline: Pipeline, first: Node, last: Node) -> set[str]:
    """Names of the nodes on some path from ``first`` to ``last``."""
    parents = {node.name: {p.name for p in ps} for node, ps in pipeline.node_dependencies.items()}
    children: dict[str, set[str]] = {}
    for child, sources in parents.items():
        for source in sources:
            children.setdefault(source, set()).add(child)

    def reach(start: str, step: Mapping[str, set[str]]) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for name in step.get(todo.pop(), ()):
                if name not in seen:
                    seen.add(name)
                    todo.append(name)
        return seen

    return reach(first.name, children) & reach(last.name, parents)
