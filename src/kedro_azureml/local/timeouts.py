"""``limits.timeout`` in ``run --local``: a step over its limit is stopped, as on Azure ML.

Every step process runs in a process group of its own (see :mod:`kedro_azureml.local.processes`),
so stopping a step stops everything it started: SIGTERM to the groups, SIGKILL after a short
grace. The step is then ``timed out``, and its dependants are skipped.
"""

from __future__ import annotations

TIMED_OUT = "timed out"
GRACE_SECONDS = 5.0


class StepTimedOut(Exception):
    """The step ran longer than its ``limits.timeout``; its processes have been stopped."""
