"""The grouping strategies' names, shared by azureml.yml, ``--group-by`` and the compiler.

Imports nothing heavy: the CLI lists them as choices when Kedro loads it, before any command.
What each strategy does is in :mod:`kedro_azureml.compiler.grouping`.
"""

from __future__ import annotations

from typing import Literal, TypeGuard, get_args

GroupingStrategy = Literal["none", "namespace", "tag", "memory", "chains", "auto"]
DEFAULT_GROUPING: GroupingStrategy = "auto"
GROUPING_STRATEGIES: tuple[str, ...] = get_args(GroupingStrategy)


def is_grouping_strategy(name: str) -> TypeGuard[GroupingStrategy]:
    return name in GROUPING_STRATEGIES
