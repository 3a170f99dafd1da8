"""Which Kedro nodes share one Azure ML step.

Every step costs a container start on Azure ML, so fewer, fuller steps are faster; but nodes
may share a step only when they could run on the same machine, and a grouping must never make
two steps wait for each other. A strategy proposes groups; :func:`split_groups` then enforces
those two rules, splitting rather than failing, so every strategy is always safe to pick.

- ``none``: one node per step.
- ``namespace``: Kedro's own ``Pipeline.group_nodes_by("namespace")`` (top-level namespace).
- ``tag``: nodes tagged ``group.<name>`` share the step ``<name>``; other nodes run alone.
  (Kedro tags allow only letters, digits, ``_``, ``-`` and ``.``, so not ``group:<name>``.)
- ``memory``: nodes joined by a dataset that cannot leave the process (a ``MemoryDataset``
  with ``copy_mode: assign``, e.g. a Spark DataFrame or a connection) share a step.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from kedro_azureml.distributed.config import ATTRIBUTE as DISTRIBUTED_ATTRIBUTE
from kedro_azureml.errors import CompileError

STRATEGIES = ("none", "namespace", "tag", "memory")
GROUP_TAG_PREFIX = "group."
_MEMORY_TYPES = ("MemoryDataset", "MemoryDataSet")

DatasetConfig = Callable[[str], "dict[str, Any] | None"]
StepKey = Callable[[Any], Hashable]


@dataclass(frozen=True)
class NodeGroup:
    name: str
    nodes: Sequence[Any]  # kedro Nodes, in topological order


def group_nodes(
    pipeline: Any,
    strategy: str = "none",
    dataset_config: DatasetConfig | None = None,
    *,
    step_key: StepKey | None = None,
) -> list[NodeGroup]:
    """Group ``pipeline``'s nodes into future steps, in a topological order of the steps.

    ``dataset_config`` (a dataset name to its catalog entry) is needed by ``memory`` only.
    ``step_key`` says which nodes may share a machine (e.g. their compute); see split_groups.
    """
    if strategy == "none":
        proposed = [NodeGroup(node.name, (node,)) for node in pipeline.nodes]
    elif strategy == "namespace":
        proposed = _by_namespace(pipeline)
    elif strategy == "tag":
        proposed = _by_tag(pipeline)
    elif strategy == "memory":
        proposed = _by_memory(pipeline, dataset_config or (lambda name: None))
    else:
        raise CompileError(
            f"Unknown grouping strategy '{strategy}'. Use one of: {', '.join(STRATEGIES)}."
        )
    return split_groups(pipeline, proposed, step_key)


def is_distributed(node: Any) -> bool:
    return getattr(node.func, DISTRIBUTED_ATTRIBUTE, None) is not None


def split_groups(
    pipeline: Any, groups: Iterable[NodeGroup], step_key: StepKey | None = None
) -> list[NodeGroup]:
    """Make ``groups`` runnable: one machine per step, and no cycle between steps.

    A group is split so that its nodes share ``step_key(node)`` (compute, environment,
    distribution: whatever must be the same on one machine); a distributed node always runs
    alone, since its whole step runs on every rank. Then, where steps would wait for each
    other, the groups involved are split by how many step boundaries lead to each node.
    Splitting groups that are already fine changes nothing, so calling this twice is safe.
    """
    order = {node.name: index for index, node in enumerate(pipeline.nodes)}
    parts: list[NodeGroup] = []
    for group in groups:
        by_key: dict[Hashable, list[Any]] = {}
        for node in sorted(group.nodes, key=lambda n: order[n.name]):
            key = ("distributed", node.name) if is_distributed(node) else None
            if key is None and step_key is not None:
                key = ("key", step_key(node))
            by_key.setdefault(key, []).append(node)
        parts += _named_parts(group.name, list(by_key.values()))
    return _acyclic(pipeline, parts, order)


def _named_parts(name: str, parts: list[list[Any]]) -> list[NodeGroup]:
    """A part of one node takes the node's name (a distributed node stays recognisable);
    the first larger part keeps the group's name and the others are numbered after it."""
    if len(parts) == 1:
        return [NodeGroup(name, tuple(parts[0]))]
    named, larger = [], 0
    for nodes in parts:
        if len(nodes) == 1:
            named.append(NodeGroup(nodes[0].name, (nodes[0],)))
            continue
        larger += 1
        named.append(NodeGroup(name if larger == 1 else f"{name}_{larger}", tuple(nodes)))
    return named


def _by_namespace(pipeline: Any) -> list[NodeGroup]:
    nodes = {node.name: node for node in pipeline.nodes}
    return [
        NodeGroup(grouped.name, tuple(nodes[name] for name in grouped.nodes))
        for grouped in pipeline.group_nodes_by(group_by="namespace")
    ]


def _by_tag(pipeline: Any) -> list[NodeGroup]:
    groups: dict[str, list[Any]] = {}
    for node in pipeline.nodes:
        names = sorted(
            tag.removeprefix(GROUP_TAG_PREFIX)
            for tag in node.tags
            if tag.startswith(GROUP_TAG_PREFIX) and len(tag) > len(GROUP_TAG_PREFIX)
        )
        if len(names) > 1:
            raise CompileError(
                f"Node '{node.name}' has the group tags {', '.join(names)}; a node runs in one "
                f"step, so keep one '{GROUP_TAG_PREFIX}<name>' tag."
            )
        groups.setdefault(names[0] if names else node.name, []).append(node)
    return [NodeGroup(name, tuple(nodes)) for name, nodes in groups.items()]


def cannot_travel(config: dict[str, Any] | None) -> bool:
    """A MemoryDataset with ``copy_mode: assign`` holds an object that must not be copied."""
    if not config:
        return False
    type_name = str(config.get("type", "")).rsplit(".", 1)[-1]
    return type_name in _MEMORY_TYPES and config.get("copy_mode") == "assign"


def _by_memory(pipeline: Any, dataset_config: DatasetConfig) -> list[NodeGroup]:
    nodes = list(pipeline.nodes)
    parent = list(range(len(nodes)))

    def root(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    touching: dict[str, list[int]] = {}
    for index, node in enumerate(nodes):
        for dataset in (*node.inputs, *node.outputs):
            touching.setdefault(dataset, []).append(index)
    for dataset, indices in sorted(touching.items()):
        if len(indices) > 1 and cannot_travel(dataset_config(dataset)):
            for other in indices[1:]:
                first, second = root(indices[0]), root(other)
                parent[max(first, second)] = min(first, second)  # the earliest node names it
    groups: dict[int, list[Any]] = {}
    for index, node in enumerate(nodes):
        groups.setdefault(root(index), []).append(node)
    return [NodeGroup(members[0].name, tuple(members)) for members in groups.values()]


def _acyclic(pipeline: Any, groups: list[NodeGroup], order: dict[str, int]) -> list[NodeGroup]:
    """Split the groups that take part in a cycle between steps; return them in step order.

    Within each strongly connected set of groups, a node's level is the longest count of group
    changes on a path to it from nodes of that set. Splitting all those groups by level would
    break every cycle at once (each edge along a cycle between the parts raises the level);
    splitting one group at a time and looking again keeps more nodes together.
    """
    group_of = {node.name: index for index, group in enumerate(groups) for node in group.nodes}
    producer = {dataset: node.name for node in pipeline.nodes for dataset in node.outputs}
    parents = {
        node.name: sorted(
            {producer[d] for d in node.inputs if d in producer}, key=order.__getitem__
        )
        for node in pipeline.nodes
    }
    edges: dict[int, set[int]] = {index: set() for index in range(len(groups))}
    for child, sources in parents.items():
        for source in sources:
            if group_of[source] != group_of[child]:
                edges[group_of[source]].add(group_of[child])

    component = _strongly_connected(edges)
    cyclic = {c for c, size in Counter(component.values()).items() if size > 1}
    if not cyclic:
        return _in_step_order(groups, edges, order)

    level: dict[str, int] = {}
    for node in pipeline.nodes:  # topological order
        own = group_of[node.name]
        if component[own] not in cyclic:
            continue
        level[node.name] = max(
            (
                level[source] + (group_of[source] != own)
                for source in parents[node.name]
                if component[group_of[source]] == component[own]
            ),
            default=0,
        )
    # Split one group per cyclic set, the one spanning most levels (the set's first node
    # is at level 0 and its group is entered from another group, so it spans at least two),
    # and look again: splitting every group of the set at once would split more than needed.
    levels_of = {
        index: sorted({level[node.name] for node in group.nodes})
        for index, group in enumerate(groups)
        if component[index] in cyclic
    }
    chosen = {
        max(
            (index for index in levels_of if component[index] == c),
            key=lambda index: (len(levels_of[index]), -index),
        )
        for c in cyclic
    }
    split: list[NodeGroup] = []
    for index, group in enumerate(groups):
        if index not in chosen:
            split.append(group)
            continue
        by_level: dict[int, list[Any]] = {}
        for node in group.nodes:
            by_level.setdefault(level[node.name], []).append(node)
        split += _named_parts(group.name, [by_level[k] for k in sorted(by_level)])
    return _acyclic(pipeline, split, order)


def _strongly_connected(edges: dict[int, set[int]]) -> dict[int, int]:
    """Tarjan's algorithm, iterative: each vertex to the id of its strongly connected set."""
    index_of: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    component: dict[int, int] = {}
    counter = 0
    for start in sorted(edges):
        if start in index_of:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index_of[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            vertex, successors = work[-1]
            advanced = False
            for successor in successors:
                if successor not in index_of:
                    index_of[successor] = low[successor] = counter
                    counter += 1
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(edges[successor]))))
                    advanced = True
                    break
                if successor in on_stack:
                    low[vertex] = min(low[vertex], index_of[successor])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[vertex])
            if low[vertex] == index_of[vertex]:
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component[member] = vertex
                    if member == vertex:
                        break
    return component


def _in_step_order(
    groups: list[NodeGroup], edges: dict[int, set[int]], order: dict[str, int]
) -> list[NodeGroup]:
    """Groups in a topological order of the steps, ties broken by their first node."""
    waiting = {index: 0 for index in edges}
    for targets in edges.values():
        for target in targets:
            waiting[target] += 1
    first = [order[group.nodes[0].name] for group in groups]
    ready = [(first[index], index) for index, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    ordered: list[NodeGroup] = []
    while ready:
        _, index = heapq.heappop(ready)
        ordered.append(groups[index])
        for target in edges[index]:
            waiting[target] -= 1
            if waiting[target] == 0:
                heapq.heappush(ready, (first[target], target))
    return ordered
