"""Azure ML names for Kedro names.

Azure ML node and port names must match ``[a-z_][a-z0-9_]*``; Kedro names may hold dots,
capitals and dashes. Two Kedro names that would share one Azure name are refused outright:
a silent clash would wire the wrong data into a step.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from kedro_azureml.errors import CompileError

_INVALID = re.compile(r"[^a-z0-9_]+")
MAX_LENGTH = 254


def sanitize_name(name: str) -> str:
    cleaned = _INVALID.sub("_", name.lower()).strip("_") or "unnamed"
    if cleaned[0].isdigit():
        cleaned = f"_{cleaned}"
    return cleaned[:MAX_LENGTH]


def unique_names(names: Iterable[str], kind: str) -> dict[str, str]:
    """Map each Kedro name to its Azure ML name; a shared Azure name is a CompileError."""
    mapping: dict[str, str] = {}
    owners: dict[str, str] = {}
    for name in sorted(set(names)):
        azure_name = sanitize_name(name)
        if azure_name in owners:
            raise CompileError(
                f"The {kind}s '{owners[azure_name]}' and '{name}' both become '{azure_name}' "
                f"in Azure ML, which allows only lowercase letters, digits and '_'. "
                f"Rename one of them."
            )
        owners[azure_name] = name
        mapping[name] = azure_name
    return mapping


def unique_step_names(group_names: Sequence[str]) -> list[str]:
    """The Azure ML name of each step, in the order of ``group_names``; all different.

    Different Kedro names that become one Azure name are a CompileError, as in
    :func:`unique_names`. One name given to several groups is numbered instead (``name``,
    ``name_2``, ...): grouping makes such names itself, e.g. a part split off a namespace
    ``x`` is named after its one node, and a node named ``x`` outside that namespace exists.
    """
    mapping = unique_names(group_names, "step name")
    taken = set(mapping.values())
    given: set[str] = set()
    names = []
    for group_name in group_names:
        base = mapping[group_name]
        name, number = base, 1
        while name in given or (name != base and name in taken):
            number += 1
            suffix = f"_{number}"
            name = base[: MAX_LENGTH - len(suffix)] + suffix
        given.add(name)
        taken.add(name)
        names.append(name)
    return names
