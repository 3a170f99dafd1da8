"""Resolve a node's ``@distributed_job`` settings into concrete counts at compile time."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kedro_azureml.contract.param_inputs import MISSING, lookup
from kedro_azureml.distributed.config import ATTRIBUTE, DistributedConfig, Framework
from kedro_azureml.errors import CompileError

_MISSING = MISSING


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
    return lookup(params, dotted)


def _renamed_inputs(node: Any) -> list[str]:
    """The node's ``params:`` inputs that a ``pipeline(parameters=...)`` mapping renamed.

    Namespacing prefixes every parameter input with the node's namespace unless the mapping
    names it, so in a namespaced node an input outside ``params:<namespace>.`` was mapped (or
    kept as is). Without a namespace a mapped input looks like any other, so none is reported.
    """
    namespace = getattr(node, "namespace", None)
    if not namespace:
        return []
    return [
        name
        for name in node.inputs
        if name.startswith("params:") and not name.startswith(f"params:{namespace}.")
    ]


def _argument_inputs(node: Any) -> dict[str, str]:
    """The input each argument of the node's function receives; empty when they do not bind."""
    declared = getattr(node, "_inputs", None)  # Kedro keeps dict inputs keyed by argument
    try:
        signature = inspect.signature(node.func)  # follows functools.wraps to the user's function
        if isinstance(declared, dict):
            bound = signature.bind(**declared)
        else:
            bound = signature.bind(*node.inputs)
    except (TypeError, ValueError):
        return {}
    return {arg: value for arg, value in bound.arguments.items() if isinstance(value, str)}


def _candidates(node: Any, key: str) -> list[str]:
    """The parameters a node's ``params:<key>`` may stand for, most likely first.

    Names are as written in the node, before ``pipeline()`` namespaced or mapped them, so the
    first choice is what the node itself receives: ``params:<namespace>.<key>`` (or a parent
    namespace's, or the top-level ``params:<key>``, when a mapping kept it), else an input a
    ``parameters=`` mapping renamed and passed to an argument named ``<key>``. Then ``<key>``
    in the node's namespace, each parent and the top level. A renamed input that no argument
    claims is tried last, and only when it is the node's one renamed parameter.
    """
    namespace = getattr(node, "namespace", None) or ""
    parts = namespace.split(".") if namespace else []
    scoped = [".".join([*parts[:i], key]) for i in range(len(parts), -1, -1)]
    found = [name for name in scoped if f"params:{name}" in node.inputs]
    renamed = _renamed_inputs(node)
    claimed = _argument_inputs(node).get(key) if renamed else None
    if claimed in renamed:
        found.append(claimed.removeprefix("params:"))
    found += scoped
    if len(renamed) == 1:
        found.append(renamed[0].removeprefix("params:"))
    return list(dict.fromkeys(found))


def _resolve_count(node: Any, label: str, value: int | str | None, params: dict[str, Any]) -> int:
    if value is None:
        return 1
    if isinstance(value, str) and value.startswith("params:"):
        key = value.removeprefix("params:")
        candidates = _candidates(node, key)
        for candidate in candidates:
            resolved = _lookup(params, candidate)
            if resolved is not _MISSING:
                value = resolved
                break
        else:
            raise CompileError(
                f"Node '{node.name}': {label}='{value}' names a parameter that does not exist"
                f" (looked for {', '.join(candidates)})."
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


def compile_time_parameters(node: Any, params: dict[str, Any]) -> list[tuple[str, str]]:
    """``(setting, parameter path)`` of the ``params:`` counts the compiler resolves for a node.

    These are fixed in the compiled job (a step's instance count), so they cannot be pipeline
    inputs that change at run time.
    """
    config: DistributedConfig | None = getattr(node.func, ATTRIBUTE, None)
    if config is None:
        return []
    found = []
    for label, value in (
        ("num_nodes", config.num_nodes),
        ("processes_per_node", config.processes_per_node),
    ):
        if isinstance(value, str) and value.startswith("params:"):
            for candidate in _candidates(node, value.removeprefix("params:")):
                if _lookup(params, candidate) is not _MISSING:
                    found.append((label, candidate))
                    break
    return found
