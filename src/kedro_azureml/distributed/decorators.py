"""``@distributed_job``: mark a node function to run as a distributed Azure ML job."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from kedro_azureml.distributed.config import ATTRIBUTE, DistributedConfig, Framework

F = TypeVar("F", bound=Callable[..., Any])


def distributed_job(
    framework: Framework,
    num_nodes: int | str,
    processes_per_node: int | str | None = None,
) -> Callable[[F], F]:
    """Run the decorated node on ``num_nodes`` machines with ``framework``'s launcher.

    Counts may be ints or ``"params:<name>"``, resolved from the project's parameters (with
    namespaces and runtime overrides) when the pipeline is compiled. Calling the function
    directly still just calls it.
    """
    config = DistributedConfig(Framework(framework), num_nodes, processes_per_node)

    def decorator(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return func(*args, **kwargs)

        setattr(wrapper, ATTRIBUTE, config)
        return wrapper  # type: ignore[return-value]

    return decorator
