"""The ``chains`` and ``auto`` groupings: fewer step starts on the longest chain, then fewer steps.

On Azure ML a step starts only when every step it reads from has finished, and each start
(container, image, often a machine) costs far more than most Kedro nodes. What a user waits
for is the number of starts on the longest chain of steps. Both strategies walk the nodes once,
in topological order, and give every step a *level*: how many starts lead up to it (1 + the
highest level it reads from). A node joins a step only where no step's level changes: the
one step at the highest level it reads from (whatever else it reads comes from lower levels),
or a step at the very level it would start a step of its own. So levels never rise, steps
never wait for each other in a circle, and no chain of steps gets more starts than with one
node per step.

- ``chains`` (no parallelism given up): a node joins the step of its producers when they are
  all in one step and everything else reading that step reads this node too.
- ``auto`` adds the *small branches*: nodes off the longest chain of nodes (reports, plots,
  checks). A small node joins the step it reads from, or else the first step starting beside
  it (same level, same compute); a node of the longest chain joins its producers' step even
  when small branches read that step too, and may join a step beside it that holds only
  small branches; two branches of the longest chain that fork keep their own machines.

Work is linear in nodes + edges: the only search (is another reader downstream of this
node?) is bounded, and a fan-out of many long branches is decided by a count.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field

# Other readers of a step checked one by one (is it downstream of the joining node?), and
# how many edges that search may follow; beyond either, the node starts its own step.
_READERS_CHECKED = 16
_SEARCH_BUDGET = 256


@dataclass
class FusedStep:
    """One future step: node indices (topological order), its level, and why each is in it."""

    level: int
    key: Hashable
    alone: bool  # a distributed node: nothing joins it
    members: list[int] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    critical: bool = False  # holds a node of the longest chain of nodes
    lead: int = -1  # the first such node (names the step), else the first node
    readers: set[int] = field(default_factory=set)  # critical nodes outside it reading it


@dataclass(frozen=True)
class NodeGraph:
    """A pipeline's nodes by topological index: who reads whose outputs."""

    names: Sequence[str]
    parents: Sequence[Sequence[int]]
    children: Sequence[Sequence[int]]


def longest_chain_nodes(graph: NodeGraph) -> list[bool]:
    """Which nodes lie on a longest chain of nodes (the pipeline's critical path)."""
    count = len(graph.names)
    depth = [0] * count
    for index in range(count):
        depth[index] = 1 + max((depth[p] for p in graph.parents[index]), default=0)
    height = [0] * count
    for index in reversed(range(count)):
        height[index] = 1 + max((height[c] for c in graph.children[index]), default=0)
    longest = max(depth, default=0)
    return [depth[i] + height[i] - 1 == longest for i in range(count)]


class _Fuser:
    def __init__(
        self,
        graph: NodeGraph,
        key_of: Callable[[int], Hashable],
        alone: Callable[[int], bool],
        small_branches: bool,
    ) -> None:
        self.graph = graph
        self.key_of = key_of
        self.alone = alone
        self.small_branches = small_branches
        # ``chains`` treats every node as on the longest chain: nothing is a small branch.
        self.critical = longest_chain_nodes(graph) if small_branches else [True] * len(graph.names)
        self.steps: list[FusedStep] = []
        self.step_of: list[int] = [-1] * len(graph.names)
        self.beside: dict[tuple[int, Hashable], int] = {}  # (level, key) -> first step there

    def place(self, index: int) -> None:
        producers = sorted({self.step_of[p] for p in self.graph.parents[index]})
        top = max((self.steps[s].level for s in producers), default=0)
        at_top = [s for s in producers if self.steps[s].level == top]
        if self.alone(index):
            self._start(index, top + 1, "distributed: runs alone in its step")
            return
        if len(at_top) == 1 and self._may_join(index, at_top[0], producers):
            self._join(index, at_top[0], self._join_reason(index, at_top[0], producers))
            return
        host = self.beside.get((top + 1, self.key_of(index)))
        if self.small_branches and host is not None:
            small = not self.critical[index]
            if small or not self.steps[host].critical:
                self._join(index, host, self._beside_reason(index, host, small))
                return
        self._start(index, top + 1, self._start_reason(index, producers, at_top))

    def _may_join(self, index: int, step_id: int, producers: list[int]) -> bool:
        step = self.steps[step_id]
        if step.alone or step.key != self.key_of(index):
            return False
        if len(producers) > 1 and not self.small_branches:
            return False  # ``chains``: every producer in that one step
        if not self.critical[index]:
            return True  # a small branch may hold back the step's other readers
        if len(step.readers) - (index in step.readers) > _READERS_CHECKED:
            return False  # a wide fan-out: its branches keep their own machines
        return self._downstream(index, step.readers - {index})

    def _downstream(self, index: int, targets: set[int]) -> bool:
        """Whether every target reads, directly or not, what ``index`` writes (bounded search)."""
        if not targets:
            return True
        remaining, limit = set(targets), max(targets)
        seen: set[int] = set()
        stack, budget = [index], _SEARCH_BUDGET  # edges looked at, not nodes: fan-outs count
        while stack:
            for child in self.graph.children[stack.pop()]:
                budget -= 1
                if budget < 0:
                    return False
                remaining.discard(child)
                if not remaining:
                    return True
                if child < limit and child not in seen:  # a target comes later in the order
                    seen.add(child)
                    stack.append(child)
        return False

    def _start(self, index: int, level: int, reason: str) -> None:
        key = self.key_of(index)
        step = FusedStep(level=level, key=key, alone=self.alone(index))
        self.steps.append(step)
        if not step.alone:
            self.beside.setdefault((level, key), len(self.steps) - 1)
        self._join(index, len(self.steps) - 1, reason)

    def _join(self, index: int, step_id: int, reason: str) -> None:
        step = self.steps[step_id]
        step.members.append(index)
        step.reasons.append(reason)
        if self.critical[index] and not step.critical:
            step.critical, step.lead = True, index
        if step.lead < 0:
            step.lead = index
        step.readers.discard(index)
        step.readers.update(c for c in self.graph.children[index] if self.critical[c])
        self.step_of[index] = step_id

    def _first_node(self, step_id: int) -> str:
        return self.graph.names[self.steps[step_id].members[0]]

    def _join_reason(self, index: int, step_id: int, producers: list[int]) -> str:
        where = f"reads from the step of '{self._first_node(step_id)}'"
        if len(producers) > 1:
            where += " (and from earlier steps only)"
        if not self.critical[index]:
            return f"small branch (off the longest chain of nodes): {where}"
        return f"chain: {where}; whatever else reads that step waits for this node anyway"

    def _beside_reason(self, index: int, host: int, small: bool) -> str:
        who = "small branch (off the longest chain of nodes)" if small else "joins a small branch"
        level = self.steps[host].level
        return (
            f"{who}: starts beside the step of '{self._first_node(host)}' "
            f"(start {level} of its chain), so no chain gets another start"
        )

    def _start_reason(self, index: int, producers: list[int], at_top: list[int]) -> str:
        if not producers:
            return "starts a step: reads only pipeline inputs"
        if len(at_top) > 1:
            return (
                f"starts a step: reads from {len(at_top)} steps that start at the same point of "
                "their chains; joining one would make it wait for the others"
            )
        step = self.steps[at_top[0]]
        if step.key != self.key_of(index):
            return "starts a step: runs on another compute than the step it reads from"
        if step.alone:
            return "starts a step: the step it reads from is distributed and runs alone"
        if len(producers) > 1 and not self.small_branches:
            return "starts a step: reads from several steps"
        return (
            "starts a step: other nodes read the step it reads from without needing this "
            "node, and joining would hold them back"
        )


def fuse_nodes(
    graph: NodeGraph,
    key_of: Callable[[int], Hashable],
    alone: Callable[[int], bool],
    *,
    small_branches: bool,
) -> list[FusedStep]:
    """Group ``graph``'s nodes into steps: ``small_branches=False`` is ``chains``, True ``auto``.

    ``key_of(index)`` says which nodes may share a machine (their compute); ``alone(index)``
    marks a node that runs alone (distributed). Steps come in the order they were started.
    """
    fuser = _Fuser(graph, key_of, alone, small_branches)
    for index in range(len(graph.names)):
        fuser.place(index)
    return fuser.steps
