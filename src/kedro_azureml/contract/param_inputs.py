"""Kedro parameters as Azure ML pipeline inputs: one grammar for compiler, step and runner.

The compiler declares a parameter (``scoring.weight``) as a typed pipeline input
(``scoring_weight``) whose value Azure ML writes into each reading step's command, as text:
``--param-input scoring.weight number '2.5'``. The step turns that text back into a value of
the input's type and applies it as a runtime parameter override. ``run --local`` writes the
text exactly as Azure ML does (:func:`value_text`), and ``--input`` values are read here too.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from typing import Any

from kedro_azureml.errors import KedroAzureMLError

INPUT_TYPES = ("number", "integer", "string", "boolean")
_TRUE = ("true", "1", "yes")
_FALSE = ("false", "0", "no")
MISSING = object()


class InputValueError(KedroAzureMLError):
    """A pipeline input value that does not fit its type, or names no input."""


def input_type(value: Any) -> str | None:
    """The Azure ML literal type of a parameter value; None for lists, mappings and null."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return None


def value_text(value: Any) -> str:
    """The text Azure ML puts in a command for a literal input (``True``, ``2.5``, ``a b``)."""
    return str(value)


def parse_value(text: str, kind: str, name: str) -> Any:
    """``text`` read as an input of type ``kind``; InputValueError naming ``name`` otherwise."""
    try:
        if kind == "boolean":
            lowered = text.strip().lower()
            if lowered in _TRUE + _FALSE:
                return lowered in _TRUE
            raise ValueError("not true or false")
        if kind == "integer":
            return int(text.strip())
        if kind == "number":
            number = float(text.strip())
            if not math.isfinite(number):
                raise ValueError("not a finite number")
            return number
        if kind == "string":
            return text
    except ValueError:
        pass
    else:
        raise InputValueError(f"Input '{name}' has an unknown type '{kind}'.")
    article = "an" if kind == "integer" else "a"
    raise InputValueError(f"Input '{name}' is of type {kind}; '{text}' is not {article} {kind}.")


def lookup(params: Mapping[str, Any], dotted: str) -> Any:
    """The parameter at a dotted path (``scoring.weight``), or MISSING."""
    value: Any = params
    for part in dotted.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return MISSING
        value = value[part]
    return value


def nest(dotted: str, value: Any) -> dict[str, Any]:
    """``{"scoring": {"weight": value}}`` for ``scoring.weight``: a runtime parameter override."""
    nested: dict[str, Any] = {}
    node = nested
    *parents, leaf = dotted.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value
    return nested


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` over ``base``, nested mappings merged key by key (as Kedro's --params)."""
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def parameter_paths(params: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Every dotted path of ``params`` (for close matches of a mistyped input)."""
    paths = []
    for key, value in params.items():
        path = f"{prefix}{key}"
        paths.append(path)
        if isinstance(value, Mapping):
            paths += parameter_paths(value, f"{path}.")
    return paths


def resolve_input_values(
    declared: Mapping[str, Any], given: Mapping[str, str], port_of: Mapping[str, str]
) -> dict[str, Any]:
    """``--input name=text`` values typed like the declared inputs ``{port: current value}``.

    ``name`` may be the parameter's dotted path or the input's Azure ML name; ``port_of`` maps
    dotted paths to ports.
    """
    values = {}
    for name, text in given.items():
        port = port_of.get(name, name)
        if port not in declared:
            known = ", ".join(sorted(declared)) or "none (list parameters under jobs.<name>.inputs)"
            raise InputValueError(f"--input {name}: the job has no such input. Inputs: {known}.")
        kind = input_type(declared[port]) or "string"
        values[port] = parse_value(text, kind, name)
    return values
