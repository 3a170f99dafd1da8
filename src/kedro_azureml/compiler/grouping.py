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
- ``chains``: a node joins its producers' step when nothing else waits on that step in
  between; every independent node keeps its own machine (see :mod:`.fusion`).
- ``auto`` (the default): ``namespace`` for a pipeline with namespaces; otherwise ``chains``
  plus small branches (nodes off the longest chain) joining a step they read from or start
  beside: fewest starts on the longest chain of steps first, then fewest steps.

Every group carries why each node is in it, for ``compile --explain``.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kedro_azureml.compiler.fusion import NodeGraph, fuse_nodes
from kedro_azureml.contract.grouping_strategies import (
    GROUPING_STRATEGIES,
    GroupingStrategy,
    is_grouping_strategy,
)
from kedro_azureml.contract.routing import cannot_travel
from kedro_azureml.distributed.config import ATTRIBUTE as DISTRIBUTED_ATTRIBUTE
from kedro_azureml.errors import CompileError

if TYPE_CHECKING:
    from kedro.pipeline import Pipeline
    from kedro.pipeline.node import Node

GROUP_TAG_PREFIX = "group."
# Rounds that split one group each before a still-cyclic set gets twice as many per round.
_SINGLE_SPLIT_ROUNDS = 16

DatasetConfig = Callable[[str], "dict[str, Any] | None"]
StepKey = Callable[["Node"], Hashable]


@dataclass(frozen=True)
class NodeGroup:
    """Nodes that will run in one Azure ML step, in topological order."""

    name: str
    nodes: tuple[Node, ...]
    # node name -> why it runs in this step (``compile --explain``); not part of equality
    reasons: Mapping[str, str] = field(default_factory=dict, compare=False)

    def reason(self, node_name: str) -> str:
        return self.reasons.get(node_name, "")


def group_nodes(
    pipeline: Pipeline,
    strategy: str = "none",
    dataset_config: DatasetConfig | None = None,
    *,
    step_key: StepKey | None = None,
) -> list[NodeGroup]:
    """Group ``pipeline``'s nodes into future steps, in a topological order of the steps.

    ``dataset_config`` (a dataset name to its catalog entry) is needed by ``memory`` only.
    ``step_key`` says which nodes may share a machine (e.g. their compute); see split_groups.
    """
    if not is_grouping_strategy(strategy):
        raise CompileError(
            f"Unknown grouping strategy '{strategy}'. Use one of: {', '.join(GROUPING_STRATEGIES)}."
        )
    propose = _PROPOSERS[strategy]
    proposed = propose(pipeline, dataset_config or (lambda name: None), step_key)
    return split_groups(pipeline, proposed, step_key)


def is_distributed(node: Node) -> bool:
    return getattr(node.func, DISTRIBUTED_ATTRIBUTE, None) is not None


def split_groups(
    pipeline: Pipeline, groups: Iterable[NodeGroup], step_key: StepKey | None = None
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
        by_key: dict[tuple[str, Hashable] | None, list[Node]] = {}
        for node in sorted(group.nodes, key=lambda n: order[n.name]):
            key: tuple[str, Hashable] | None = None
            if is_distributed(node):
                key = ("distributed", node.name)
            if key is None and step_key is not None:
                key = ("key", step_key(node))
            by_key.setdefault(key, []).append(node)
        parts += _named_parts(group.name, list(by_key.values()), _split_reasons(group, by_key))
    return _acyclic(pipeline, parts, order)


def _split_reasons(
    group: NodeGroup, by_key: dict[tuple[str, Hashable] | None, list[Node]]
) -> dict[str, str]:
    """The group's reasons, each noting why its node left the group, if the group split."""
    reasons = dict(group.reasons)
    if len(by_key) > 1:
        for key, nodes in by_key.items():
            why = "distributed: runs alone" if key and key[0] == "distributed" else "compute"
            for node in nodes:
                note = f"split from '{group.name}' by {why}"
                reasons[node.name] = _split_note(reasons.get(node.name, ""), note)
    return reasons


def _split_note(reason: str, note: str) -> str:
    return f"{reason}; {note}" if reason else note


def _named_parts(
    name: str, parts: Sequence[Sequence[Node]], reasons: Mapping[str, str]
) -> list[NodeGroup]:
    """A part of one node takes the node's name (a distributed node stays recognisable);
    larger parts keep the group's name. Names may repeat: the step names are made unique
    once, in Azure ML's alphabet, by ``naming.unique_step_names``."""

    def part(part_name: str, nodes: Sequence[Node]) -> NodeGroup:
        why = {n.name: reasons[n.name] for n in nodes if n.name in reasons}
        return NodeGroup(part_name, tuple(nodes), why)

    if len(parts) == 1:
        return [part(name, parts[0])]
    return [part(nodes[0].name if len(nodes) == 1 else name, nodes) for nodes in parts]


def _by_namespace(pipeline: Pipeline, why: str = "namespace") -> list[NodeGroup]:
    nodes = {node.name: node for node in pipeline.nodes}
    groups = []
    for grouped in pipeline.group_nodes_by(group_by="namespace"):
        members = tuple(nodes[name] for name in grouped.nodes)
        reason = (
            f"{why} '{grouped.name}'"
            if members[0].namespace
            else f"{why}: has no namespace, so runs alone"
        )
        groups.append(NodeGroup(grouped.name, members, {n.name: reason for n in members}))
    return groups


def _by_tag(pipeline: Pipeline) -> list[NodeGroup]:
    # Keyed by (tagged, name): an untagged node named like a group tag still runs alone.
    groups: dict[tuple[bool, str], list[Node]] = {}
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
        groups.setdefault((True, names[0]) if names else (False, node.name), []).append(node)
    return [
        _with_reason(name, nodes, f"tag '{GROUP_TAG_PREFIX}{name}'" if tagged else "no group tag")
        for (tagged, name), nodes in groups.items()
    ]


def _with_reason(name: str, nodes: Sequence[Node], reason: str) -> NodeGroup:
    return NodeGroup(name, tuple(nodes), {node.name: reason for node in nodes})


def _by_memory(pipeline: Pipeline, dataset_config: DatasetConfig) -> list[NodeGroup]:
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
    groups: dict[int, list[Node]] = {}
    for index, node in enumerate(nodes):
        groups.setdefault(root(index), []).append(node)
    return [
        _with_reason(
            members[0].name,
            members,
            "shares a copy_mode: assign dataset with the step's other nodes"
            if len(members) > 1
            else "shares no copy_mode: assign dataset",
        )
        for members in groups.values()
    ]


def _one_per_node(pipeline: Pipeline) -> list[NodeGroup]:
    return [_with_reason(node.name, (node,), "one node per step") for node in pipeline.nodes]


def _fused(pipeline: Pipeline, step_key: StepKey | None, small_branches: bool) -> list[NodeGroup]:
    """``chains`` (``small_branches=False``) or ``auto`` on a pipeline: see :mod:`.fusion`."""
    nodes = list(pipeline.nodes)
    index = {node.name: i for i, node in enumerate(nodes)}
    producer = {d: index[node.name] for node in nodes for d in node.outputs}
    parents = [sorted({producer[d] for d in node.inputs if d in producer}) for node in nodes]
    children: list[list[int]] = [[] for _ in nodes]
    for child, sources in enumerate(parents):
        for source in sources:
            children[source].append(child)
    graph = NodeGraph([node.name for node in nodes], parents, children)
    key = step_key or (lambda node: None)
    steps = fuse_nodes(
        graph,
        lambda i: key(nodes[i]),
        lambda i: is_distributed(nodes[i]),
        small_branches=small_branches,
    )
    return [
        NodeGroup(
            nodes[step.lead].name,
            tuple(nodes[i] for i in step.members),
            {nodes[i].name: why for i, why in zip(step.members, step.reasons, strict=True)},
        )
        for step in steps
    ]


def _auto(pipeline: Pipeline, step_key: StepKey | None) -> list[NodeGroup]:
    """Namespaces are the user's own grouping: a pipeline that has them keeps it."""
    if any(node.namespace for node in pipeline.nodes):
        return _by_namespace(pipeline, why="auto (the pipeline has namespaces): namespace")
    return _fused(pipeline, step_key, small_branches=True)


Proposer = Callable[["Pipeline", DatasetConfig, "StepKey | None"], list[NodeGroup]]

# What each strategy proposes, before split_groups makes the proposal runnable.
_PROPOSERS: dict[GroupingStrategy, Proposer] = {
    "none": lambda pipeline, dataset_config, step_key: _one_per_node(pipeline),
    "namespace": lambda pipeline, dataset_config, step_key: _by_namespace(pipeline),
    "tag": lambda pipeline, dataset_config, step_key: _by_tag(pipeline),
    "memory": lambda pipeline, dataset_config, step_key: _by_memory(pipeline, dataset_config),
    "chains": lambda pipeline, dataset_config, step_key: _fused(pipeline, step_key, False),
    "auto": lambda pipeline, dataset_config, step_key: _auto(pipeline, step_key),
}


def _acyclic(pipeline: Pipeline, groups: list[NodeGroup], order: dict[str, int]) -> list[NodeGroup]:
    """Split the groups that take part in a cycle between steps; return them in step order.

    Within each strongly connected set of groups, a node's level is the longest count of group
    changes on a path to it from nodes of that set. Splitting all those groups by level would
    break every cycle at once (each edge along a cycle between the parts raises the level), but
    would split more than needed. So a round splits the group spanning most levels and looks
    again at that set only (a split cannot make a cycle through groups outside it). A set still cyclic
    after _SINGLE_SPLIT_ROUNDS rounds has twice as many groups split in each further round, so a
    node is looked at in at most _SINGLE_SPLIT_ROUNDS + log2(groups) rounds: near-linear even for
    a chain that enters each of thousands of groups again and again.
    """
    partition = _Partition(pipeline, groups, order)
    work: list[tuple[set[int], int]] = [
        (cyclic, 0) for cyclic in _cyclic_sets(partition.edges_between(range(len(groups))))
    ]
    while work:
        parts, rounds = work.pop()
        batch = 2 ** max(0, rounds + 1 - _SINGLE_SPLIT_ROUNDS)
        level = partition.levels(parts)
        for part in partition.widest(parts, level, batch):
            parts.discard(part)
            parts.update(partition.split_by_level(part, level))
        work += [(cyclic, rounds + 1) for cyclic in _cyclic_sets(partition.edges_between(parts))]
    return partition.groups_in_step_order()


class _Partition:
    """The pipeline's nodes (by topological index) cut into parts, each a future step.

    A split part's members are emptied and its pieces appended, so part ids stay valid. Among
    equally wide parts the first in the list is split first, as if each split had replaced its
    part in place: ``rank`` keeps that order.
    """

    def __init__(self, pipeline: Pipeline, groups: list[NodeGroup], order: dict[str, int]) -> None:
        self.order = order
        self.nodes = list(pipeline.nodes)  # topological order, as ``order``
        producer = {d: index for index, node in enumerate(self.nodes) for d in node.outputs}
        self.parents = [
            sorted({producer[d] for d in node.inputs if d in producer}) for node in self.nodes
        ]
        self.members = [sorted(order[n.name] for n in group.nodes) for group in groups]
        self.names = [group.name for group in groups]
        self.reasons = {name: why for group in groups for name, why in group.reasons.items()}
        self.rank: list[tuple[int, ...]] = [(index,) for index in range(len(groups))]
        self.part_of = [0] * len(self.nodes)
        for part, indices in enumerate(self.members):
            for index in indices:
                self.part_of[index] = part

    def edges_between(self, parts: Iterable[int]) -> dict[int, set[int]]:
        """Which of ``parts`` wait for which others, through the nodes' datasets."""
        edges: dict[int, set[int]] = {part: set() for part in parts}
        for part in edges:
            for child in self.members[part]:
                for parent in self.parents[child]:
                    source = self.part_of[parent]
                    if source != part and source in edges:
                        edges[source].add(part)
        return edges

    def levels(self, parts: set[int]) -> dict[int, int]:
        """Each node of ``parts``: the most part changes on a path to it from inside ``parts``."""
        part_of, parents = self.part_of, self.parents
        level: dict[int, int] = {}
        for index in sorted(i for part in parts for i in self.members[part]):
            own = part_of[index]
            level[index] = max(
                (level[p] + (part_of[p] != own) for p in parents[index] if part_of[p] in parts),
                default=0,
            )
        return level

    def widest(self, parts: set[int], level: dict[int, int], batch: int) -> list[int]:
        """Up to ``batch`` parts spanning the most levels, the first-ranked among equals.

        The set's first node is at level 0 and its part is entered from another part, so that
        part spans at least two levels: every round splits something.
        """
        spans = {part: len({level[i] for i in self.members[part]}) for part in parts}
        splittable = (part for part in parts if spans[part] > 1)
        return sorted(splittable, key=lambda p: (-spans[p], self.rank[p]))[:batch]

    def split_by_level(self, part: int, level: dict[int, int]) -> list[int]:
        """Replace ``part`` by one part per level of its nodes; return the new parts' ids."""
        by_level: dict[int, list[Node]] = {}
        for index in self.members[part]:
            by_level.setdefault(level[index], []).append(self.nodes[index])
        note = f"split from '{self.names[part]}' so that no two steps wait for each other"
        for index in self.members[part]:
            name = self.nodes[index].name
            self.reasons[name] = _split_note(self.reasons.get(name, ""), note)
        pieces = _named_parts(
            self.names[part], [by_level[k] for k in sorted(by_level)], self.reasons
        )
        self.members[part] = []
        new_parts = []
        for position, piece in enumerate(pieces):
            new = len(self.members)
            self.members.append([self.order[n.name] for n in piece.nodes])
            self.names.append(piece.name)
            self.rank.append((*self.rank[part], position))
            for n in piece.nodes:
                self.part_of[self.order[n.name]] = new
            new_parts.append(new)
        return new_parts

    def groups_in_step_order(self) -> list[NodeGroup]:
        alive = sorted(
            (p for p, indices in enumerate(self.members) if indices), key=self.rank.__getitem__
        )
        result = [
            _named_parts(self.names[p], [[self.nodes[i] for i in self.members[p]]], self.reasons)[0]
            for p in alive
        ]
        renumber = {part: index for index, part in enumerate(alive)}
        edges = self.edges_between(alive)
        return _in_step_order(
            result,
            {renumber[p]: {renumber[t] for t in targets} for p, targets in edges.items()},
            self.order,
        )


def _cyclic_sets(edges: dict[int, set[int]]) -> list[set[int]]:
    """The strongly connected sets of more than one vertex: those that contain a cycle."""
    sets: dict[int, set[int]] = {}
    for vertex, root in _strongly_connected(edges).items():
        sets.setdefault(root, set()).add(vertex)
    return [vertices for vertices in sets.values() if len(vertices) > 1]


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
