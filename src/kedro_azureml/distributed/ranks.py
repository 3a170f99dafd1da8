"""Which process of a distributed step this is, from the variables Azure ML sets."""

from __future__ import annotations

import json
import os

NOT_A_WORKER = -1


def distributed_rank() -> int:
    """Global rank of this process: 0 outside distributed jobs, -1 for a TF ps/evaluator."""
    for variable in ("RANK", "OMPI_COMM_WORLD_RANK", "PMI_RANK"):
        value = os.environ.get(variable)
        if value not in (None, ""):
            return int(value)  # type: ignore[arg-type]
    tf_config = os.environ.get("TF_CONFIG")
    if tf_config:
        parsed = json.loads(tf_config)
        task = parsed.get("task", {})
        # TensorFlow's chief, or worker 0 when no chief is declared, plays the master.
        if task.get("type") == "chief":
            return 0
        if task.get("type", "worker") != "worker":
            return NOT_A_WORKER  # parameter servers and evaluators never save
        index = int(task.get("index", 0))
        return index + (1 if "chief" in parsed.get("cluster", {}) else 0)
    return 0


def is_distributed_master_node() -> bool:
    """True in the one process of a step that should save outputs (and outside distribution)."""
    return distributed_rank() == 0
