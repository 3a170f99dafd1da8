"""Resolve a node's ``@distributed_job`` settings into concrete counts at compile time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kedro_azureml.distributed.config import ATTRIBUTE, DistributedConfig, Framework
from kedro_azureml.errors import CompileError

_MISSING = object()


@dataclass(frozen=True)
class DistributedSpec:
    framework: Framework
    num_nodes: int
    processes_per_node: int

    @property
    def world_size(self) -> int:
        return self.num_nodes * self.processes_per_node

    def sdk_kwargs(self) -> dict[str, Any]:
        from azure.ai.ml import MpiDistribution, PyTorchDistribution, TensorFlowDistribution

        distribution: Any
        if self.framework is Framework.PyTorch:
            distribution = PyTorchDistribution(process_count_per_instance=self.processes_per_node)
        elif self.framework is Framework.MPI:
            distribution = MpiDistribution(process_count_per_instance=self.processes_per_node)
        else:
            # TensorFlow counts workers over the whole job, not per machine.
            distribution = TensorFlowDistribution(worker_count=self.world_size)
        return {"instance_count": self.num_nodes, "distribution": distribution}


def _lookup(params: dict[str, Any], dotted: str) -> Any:
    if dotted in params:
        return params[dotted]
    value: Any = params
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _candidates(node: Any, key: str) -> list[str]:
    """Where a node's ``params:key`` lives: its own (namespaced) inputs first, then upwards."""
    found = [
        name.removeprefix("params:")
        for name in node.inputs
        if name.startswith("params:") and (name == f"params:{key}" or name.endswith(f".{key}"))
    ]
    namespace = getattr(node, "namespace", None) or ""
    parts = namespace.split(".") if namespace else []
    found += [".".join([*parts[:i], key]) for i in range(len(parts), -1, -1)]
    return list(dict.fromkeys(found))


def _resolve_count(node: Any, label: str, value: int | str | None, params: dict[str, Any]) -> int:
    if value is None:
        return 1
    if isinstance(value, str) and value.startswith("params:"):
        key = value.removeprefix("params:")
        for candidate in _candidates(node, key):
            resolved = _lookup(params, candidate)
            if resolved is not _MISSING:
                value = resolved
                break
        else:
            raise CompileError(
                f"Node '{node.name}': {label}='{value}' names a parameter that does not exist."
            )
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise CompileError(
            f"Node '{node.name}': {label} must be a positive integer, got {value!r}."
        )
    return value


def distribution_resolver(params: dict[str, Any]) -> Callable[[Any], DistributedSpec | None]:
    def resolve(node: Any) -> DistributedSpec | None:
        config: DistributedConfig | None = getattr(node.func, ATTRIBUTE, None)
        if config is None:
            return None
        return DistributedSpec(
            framework=config.framework,
            num_nodes=_resolve_count(node, "num_nodes", config.num_nodes, params),
            processes_per_node=_resolve_count(
                node, "processes_per_node", config.processes_per_node, params
            ),
        )

    return resolve
