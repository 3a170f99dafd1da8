"""A data-parallel PyTorch regression, run by every rank of an Azure ML distributed step.

``torch`` is imported inside the node, so the project's other pipelines run without it.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import os
from datetime import timedelta
from typing import Any

import pandas as pd

from kedro_azureml.distributed import Framework, distributed_job

logger = logging.getLogger(__name__)

EPOCHS = 30
LEARNING_RATE = 0.1
SEED = 7


def _sha256(tensor: Any) -> str:
    return hashlib.sha256(tensor.numpy().tobytes()).hexdigest()


@distributed_job(Framework.PyTorch, num_nodes="params:num_nodes")
def train_distributed_model(x_train: pd.DataFrame, y_train: pd.Series) -> dict[str, Any]:
    """Fit a linear model with DDP: each rank trains on its own shard, gradients are averaged.

    Azure ML (or ``kedro azureml run --local``) starts one process per rank and sets
    ``MASTER_ADDR``, ``MASTER_PORT``, ``WORLD_SIZE`` and ``RANK``; ``kedro run`` without them
    trains in this one process.

    Args:
        x_train: Training features (every rank reads all of them and keeps its shard).
        y_train: Training prices.

    Returns:
        ``world_size``, ``rank`` (of the process whose result is saved: the master), and,
        gathered from every rank in rank order, the last loss on its own shard and a SHA-256
        of its final weights. The losses differ; the weights are equal only because the
        gradients were all-reduced.
    """
    import torch.distributed as dist

    distributed = "WORLD_SIZE" in os.environ
    if not distributed:
        return _train(x_train, y_train, distributed=False)
    dist.init_process_group("gloo", timeout=timedelta(minutes=5))
    report = _train(x_train, y_train, distributed=True)
    # Tear down only once the DDP model is gone (it holds gloo work) and every rank is here.
    # Destroying the group under a live DDP model, or with a peer still mid-teardown, makes
    # about one process exit in six abort with "terminate called without an active
    # exception" (torch 2.13, gloo; measured): the rank, and so the step, would fail.
    gc.collect()
    dist.barrier()
    dist.destroy_process_group()
    return report


def _train(x_train: pd.DataFrame, y_train: pd.Series, *, distributed: bool) -> dict[str, Any]:
    import torch
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    torch.set_num_threads(1)
    rank = dist.get_rank() if distributed else 0
    world_size = dist.get_world_size() if distributed else 1

    features = torch.tensor(x_train.to_numpy(dtype="float32"))
    target = torch.tensor(y_train.to_numpy(dtype="float32")).unsqueeze(1)
    # Statistics of the whole table, so every rank scales its shard the same way.
    features = (features - features.mean(0)) / features.std(0).clamp_min(1e-6)
    target = (target - target.mean()) / target.std()
    shard = slice(rank, None, world_size)

    torch.manual_seed(SEED)  # The same initial weights on every rank.
    model: torch.nn.Module = torch.nn.Linear(features.shape[1], 1)
    if distributed:
        model = DistributedDataParallel(model)
    optimiser = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    loss = torch.tensor(0.0)
    for _ in range(EPOCHS):
        optimiser.zero_grad()
        loss = torch.nn.functional.mse_loss(model(features[shard]), target[shard])
        loss.backward()  # DDP all-reduces (averages) the gradients across ranks here.
        optimiser.step()

    weights = torch.cat([p.detach().flatten() for p in model.parameters()])
    checksum = _sha256(weights)
    logger.info(
        "Rank %d of %d: loss %.4f, weights sha256 %s", rank, world_size, loss.item(), checksum
    )
    # Every rank's view, gathered: the shards differ (so do the losses), the weights do not.
    losses, checksums = [float(loss.item())], [checksum]
    if distributed:
        all_losses = [torch.zeros(1) for _ in range(world_size)]
        dist.all_gather(all_losses, loss.detach().reshape(1))
        all_weights = [torch.zeros_like(weights) for _ in range(world_size)]
        dist.all_gather(all_weights, weights)
        losses = [float(t.item()) for t in all_losses]
        checksums = [_sha256(t) for t in all_weights]
    return {
        "world_size": world_size,
        "rank": rank,
        "loss_by_rank": losses,
        "weights_sha256_by_rank": checksums,
    }
