"""Distributed training: ``@distributed_job`` and helpers for code running inside a step."""

from kedro_azureml.distributed.config import Framework
from kedro_azureml.distributed.decorators import distributed_job
from kedro_azureml.distributed.ranks import distributed_rank, is_distributed_master_node

__all__ = ["Framework", "distributed_job", "distributed_rank", "is_distributed_master_node"]
