"""Process launches for one step: one process, or one per rank for distributed steps.

Mirrors what Azure ML's launchers give each process, so ``torch.distributed`` (gloo),
``mpi4py`` or ``TF_CONFIG``-reading code runs here as on a cluster, only on one machine.
"""

from __future__ import annotations

import json
import shutil
import socket
from typing import Any

from kedro_azureml.errors import KedroAzureMLError
from kedro_azureml.local.job import LocalStep

Launch = tuple[list[str], dict[str, str]]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _distribution_type(distribution: dict[str, Any]) -> str:
    return str(distribution.get("type") or distribution.get("distribution_type") or "").lower()


def world_size(step: LocalStep) -> int:
    """How many processes the step runs as: 1, or every rank of a distributed step."""
    kind = _distribution_type(step.distribution)
    nodes = max(1, step.instance_count)
    if not kind:
        return 1
    if kind == "tensorflow":
        return int(step.distribution.get("worker_count") or nodes)
    return nodes * int(step.distribution.get("process_count_per_instance") or 1)


def rank_launches(step: LocalStep, command: str, env: dict[str, str]) -> list[Launch]:
    kind = _distribution_type(step.distribution)
    nodes = max(1, step.instance_count)
    if not kind:
        return [(["bash", "-c", command], env)]
    per_node = int(step.distribution.get("process_count_per_instance") or 1)
    world = nodes * per_node
    if kind == "pytorch":
        port = str(_free_port())
        launches = []
        for rank in range(world):
            rank_env = {
                **env,
                "MASTER_ADDR": "127.0.0.1",
                "MASTER_PORT": port,
                "WORLD_SIZE": str(world),
                "RANK": str(rank),
                "LOCAL_RANK": str(rank % per_node),
                "NODE_RANK": str(rank // per_node),
                "LOCAL_WORLD_SIZE": str(per_node),
            }
            launches.append((["bash", "-c", command], rank_env))
        return launches
    if kind == "tensorflow":
        workers = int(step.distribution.get("worker_count") or nodes)
        ports = [_free_port() for _ in range(workers)]
        cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
        return [
            (
                ["bash", "-c", command],
                {
                    **env,
                    "TF_CONFIG": json.dumps(
                        {"cluster": cluster, "task": {"type": "worker", "index": i}}
                    ),
                },
            )
            for i in range(workers)
        ]
    if kind == "mpi":
        # The step's own PATH (the venv first), not this process's, as the step would see it.
        mpirun = shutil.which("mpirun", path=env.get("PATH"))
        if mpirun is None:
            raise KedroAzureMLError(
                f"Step '{step.name}' is an MPI job and needs `mpirun` to run locally. Install "
                "Open MPI (e.g. `apt-get install openmpi-bin` or `conda install openmpi`)."
            )
        extra = ["--allow-run-as-root", "--oversubscribe"]
        return [([mpirun, *extra, "-np", str(world), "bash", "-c", command], env)]
    raise KedroAzureMLError(f"Step '{step.name}' has an unknown distribution type '{kind}'.")
