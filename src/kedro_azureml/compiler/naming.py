"""Azure ML names for Kedro names.

Azure ML node and port names must match ``[a-z_][a-z0-9_]*``; Kedro names may hold dots,
capitals and dashes. Two Kedro names that would share one Azure name are refused outright:
a silent clash would wire the wrong data into a step.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

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
