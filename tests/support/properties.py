"""Shared settings of the property-based tests (hypothesis), see tests/unit/test_*_props.py.

Locally every run tries new examples; in CI (``$CI`` set) the examples are derived from the
test's name, so a run can be repeated exactly and a pull request cannot go red by chance.
``FUZZ_SCALE=20 pytest tests/unit -k props`` tries twenty times as many examples, for a
deeper search before a release. A failing example is printed: when fixing the bug, add it as
a regular regression test.
"""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, settings

SCALE = float(os.environ.get("FUZZ_SCALE", "1"))


def fuzz(max_examples: int) -> settings:
    """Bounded, deadline-free settings: these tests do I/O and import heavy libraries."""
    return settings(
        max_examples=max(1, int(max_examples * SCALE)),
        deadline=None,
        derandomize=bool(os.environ.get("CI")),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )


# The smallest valid azureml.yml (code upload flow, one cluster).
MINIMAL_CONFIG = {
    "azure": {
        "resource_group": "rg",
        "workspace_name": "ws",
        "experiment_name": "exp",
        "compute": {"__default__": {"cluster_name": "cpu"}},
        "environment_name": "env@latest",
    }
}


def starts_on_longest_chain(pipe: Any, groups: list[Any]) -> int:
    """How many steps start one after another on the longest chain of steps."""
    step_of = {n.name: index for index, group in enumerate(groups) for n in group.nodes}
    producer = {d: step_of[n.name] for n in pipe.nodes for d in n.outputs}
    level: dict[int, int] = {}
    for index, group in enumerate(groups):  # groups come in a topological order of the steps
        reads = {producer[d] for n in group.nodes for d in n.inputs if d in producer} - {index}
        level[index] = 1 + max((level[s] for s in reads), default=0)
    return max(level.values(), default=0)
