"""Which Kedro nodes share one Azure ML step.

Every step costs a container start on Azure ML, so fewer, fuller steps are faster; but nodes
may share a step only when they could run on the same machine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kedro_azureml.errors import CompileError


@dataclass(frozen=True)
class NodeGroup:
    name: str
    nodes: Sequence[Any]  # kedro Nodes, in topological order


def group_nodes(pipeline: Any, strategy: str = "none") -> list[NodeGroup]:
    if strategy == "none":
        return [NodeGroup(node.name, (node,)) for node in pipeline.nodes]
    raise CompileError(f"Unknown grouping strategy '{strategy}'. Use one of: none.")
