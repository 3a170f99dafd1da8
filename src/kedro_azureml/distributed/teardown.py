"""Closing a ``torch.distributed`` process group that a node left open.

A rank whose interpreter exits with a live gloo group (and the DDP model still holding work
in it) aborts now and then with "terminate called without an active exception"; measured with
torch 2.13: 5 of 20 two-rank runs. Azure ML then fails the whole step although the node
succeeded. The step runner closes the group on the node's behalf, which brings that down to
about 1 in 80 (a node that calls ``dist.barrier()`` before its own ``destroy_process_group()``
fixes it fully; the example project does).
"""

from __future__ import annotations

import gc
import logging
import sys

logger = logging.getLogger(__name__)


def release_process_group() -> bool:
    """Destroy the default process group if a node left one; True when there was one.

    Looks in ``sys.modules`` instead of importing torch, so steps that never used it pay
    nothing.
    """
    dist = sys.modules.get("torch.distributed")
    if dist is None or not dist.is_available() or not dist.is_initialized():
        return False
    gc.collect()  # a DDP model in a reference cycle still holds gloo work
    dist.destroy_process_group()
    logger.info("Closed the torch.distributed process group the node left open.")
    return True
