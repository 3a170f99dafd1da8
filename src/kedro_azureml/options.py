"""Parsing of the command-line values shared by compile, run and execute."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from typing import Any

import click

logger = logging.getLogger(__name__)

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
RESERVED_ENV_PREFIXES = ("AZUREML_", "AZURE_")


def _convert(value: str) -> Any:
    """Kedro's `--params` typing: numbers become numbers, everything else stays a string."""
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            continue
    return value


def _set_dotted(target: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    node = target
    for part in parents:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[leaf] = value


def parse_params(text: str | None) -> dict[str, Any]:
    """Accept JSON (``'{"a": {"b": 1}}'``) or Kedro's ``a.b=1,c=x`` syntax."""
    if not text or not text.strip():
        return {}
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            value = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise click.BadParameter(f"not valid JSON: {exc}", param_hint="--params") from None
        if not isinstance(value, dict):
            raise click.BadParameter("JSON must be an object", param_hint="--params")
        return value
    result: dict[str, Any] = {}
    for item in stripped.split(","):
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(
                f"'{item}' is not key=value (use a.b=1,c=x or a JSON object)",
                param_hint="--params",
            )
        _set_dotted(result, key.strip(), _convert(value.strip()))
    return result


def parse_env_vars(items: Iterable[str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not _ENV_NAME.match(key):
            raise click.BadParameter(
                f"'{item}' is not KEY=VALUE with a valid variable name", param_hint="--env-var"
            )
        if key.startswith(RESERVED_ENV_PREFIXES):
            logger.warning(
                "--env-var %s may shadow a variable Azure ML sets itself (%s*).",
                key,
                key.split("_", 1)[0] + "_",
            )
        env[key] = value
    return env


def parse_load_versions(items: Iterable[str]) -> dict[str, str]:
    versions: dict[str, str] = {}
    for item in items:
        for part in item.split(","):
            dataset, sep, version = part.partition(":")
            if not sep or not dataset or not version:
                raise click.BadParameter(
                    f"'{part}' is not dataset:version", param_hint="--load-versions"
                )
            versions[dataset] = version
    return versions
