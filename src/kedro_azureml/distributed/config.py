"""The distributed-training settings a node carries (set by ``@distributed_job``)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Framework(str, Enum):
    PyTorch = "pytorch"
    MPI = "mpi"
    TensorFlow = "tensorflow"


@dataclass(frozen=True)
class DistributedConfig:
    """As written in the decorator: counts may still be ``params:`` references."""

    framework: Framework
    num_nodes: int | str
    processes_per_node: int | str | None = None


ATTRIBUTE = "__kedro_azureml_distributed__"
