"""Parsing of the command-line values shared by compile, run and execute."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from typing import Any, cast

import click

logger = logging.getLogger(__name__)

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
RESERVED_ENV_PREFIXES = ("AZUREML_", "AZURE_")
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# Control characters (a trailing newline from `$(cat file)` or a paste is the usual one).
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
PARAMS_FORMS = 'a JSON object (\'{"a": {"b": 1}}\') or key=value items (a.b=1,c=x)'


def _parse_dotlist(items: list[str]) -> dict[str, Any]:
    """Type and nest ``key=value`` items exactly as ``kedro run --params`` does.

    Kedro 1.x hands the items to ``OmegaConf.from_dotlist``: values are read as YAML scalars
    (``true`` -> True, ``null`` or nothing -> None, ``0x10`` -> 16, ``nan`` stays a string) and
    dotted keys nest. Kedro's own callback (``_split_params``) is private and needs a click
    context, so the same rule is applied here. Imported lazily: the CLI loads this module at
    start-up.
    """
    import yaml
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    try:
        container = OmegaConf.to_container(OmegaConf.from_dotlist(items))
    except (OmegaConfBaseException, yaml.YAMLError) as exc:
        message = " ".join(str(exc).split())
        raise click.BadParameter(f"cannot be read: {message}", param_hint="--params") from None
    # A dotlist always builds a mapping with string keys at the top.
    params = cast("dict[str, Any]", container)
    _check_travels_as_json(params, "")
    return params


def _check_travels_as_json(value: Any, path: str) -> None:
    """Refuse what JSON would change on its way to the steps (they get ``--params`` as JSON).

    YAML values can be bytes (``!!binary``), pairs (``!!omap``) or mappings with int or bool
    keys, which Kedro takes as they are but JSON would turn into lists and string keys: the
    steps would run with other parameters than the ones compile saw.
    """
    if value is None or type(value) in (str, int, float, bool):
        return
    if type(value) is list:
        for index, item in enumerate(value):
            _check_travels_as_json(item, f"{path}[{index}]")
        return
    if type(value) is dict:
        for key, item in value.items():
            if type(key) is not str:
                raise click.BadParameter(
                    f"'{path}' has the key {key!r}, which is not a string: the steps receive "
                    "--params as JSON, whose keys are strings. Quote the key so YAML reads a string.",
                    param_hint="--params",
                )
            _check_travels_as_json(item, f"{path}.{key}" if path else key)
        return
    raise click.BadParameter(
        f"'{path}' reads as a Python {type(value).__name__}, which the steps cannot receive: "
        "they get --params as JSON. Give a string, a number, a list or a mapping.",
        param_hint="--params",
    )


def _check_utf8(text: str, option: str) -> None:
    """Refuse bytes that are not UTF-8 (Python shows them as surrogate escapes).

    A Latin-1 terminal sends ``é`` as one such byte: YAML, JSON and Azure ML all need UTF-8.
    """
    for position, char in enumerate(text):
        if "\udc80" <= char <= "\udcff":
            raise click.BadParameter(
                f"byte {ord(char) - 0xDC00:#04x} at position {position} of {text!r} is not "
                "UTF-8 (is the terminal set to another encoding?): give the value as UTF-8.",
                param_hint=option,
            )


def parse_params(text: str | None) -> dict[str, Any]:
    """Accept JSON (``'{"a": {"b": 1}}'``) or Kedro's ``a.b=1,c=x`` syntax."""
    if not text or not text.strip():
        return {}
    _check_utf8(text, "--params")
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            value = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise click.BadParameter(f"not valid JSON: {exc}", param_hint="--params") from None
        return cast("dict[str, Any]", value)
    if stripped.startswith(("[", '"')) or _is_json_scalar(stripped):
        kind = type(_json_or_none(stripped)).__name__
        raise click.BadParameter(
            f"got {'a JSON ' + kind if kind != 'NoneType' else repr(stripped)}; --params takes "
            f"{PARAMS_FORMS}",
            param_hint="--params",
        )
    items: list[str] = []
    for item in (part.strip() for part in stripped.split(",")):
        if not item:
            continue
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(
                f"'{item}' is not key=value; --params takes {PARAMS_FORMS}",
                param_hint="--params",
            )
        items.append(f"{key.strip()}={value}")
    return _parse_dotlist(items)


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None


def _is_json_scalar(text: str) -> bool:
    """A bare JSON number or word (``3``, ``true``): no key=value item, surely a mistake."""
    return "=" not in text and isinstance(_json_or_none(text), int | float | bool)


def parse_env_vars(items: Iterable[str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for item in items:
        _check_utf8(item, "--env-var")
        key, sep, value = item.partition("=")
        if not sep or not _ENV_NAME.fullmatch(key):
            shown = f"{key}=..." if sep else item  # the value may be a secret: never echoed
            raise click.BadParameter(
                f"{shown!r} is not KEY=VALUE with a valid variable name (letters, digits and _, "
                "not starting with a digit; no spaces or control characters such as a newline)",
                param_hint="--env-var",
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
        _check_utf8(item, "--load-versions")
        for part in item.split(","):
            dataset, sep, version = part.partition(":")
            if not sep or not dataset or not version:
                raise click.BadParameter(
                    f"'{part}' is not dataset:version", param_hint="--load-versions"
                )
            versions[dataset] = version
    return versions


def parse_key_values(items: Iterable[str], option: str) -> dict[str, str]:
    """Repeatable ``KEY=VALUE`` options (``--tag team=growth``, ``--input scoring.weight=3``).

    The value keeps everything after the first ``=``, so it may itself hold ``=`` and commas.
    """
    pairs: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"'{item}' is not KEY=VALUE", param_hint=option)
        pairs[key.strip()] = value
    return pairs


def check_image(image: str | None, param_hint: str = "-i/--image") -> str | None:
    """A docker image reference has no whitespace or control characters (a pasted newline)."""
    if image is not None and (not image.strip() or _CONTROL.search(image) or " " in image):
        raise click.BadParameter(
            f"{image!r} is not a docker image reference: it holds a space or a control "
            "character (often a trailing newline from a pasted or $(cat ...) value)",
            param_hint=param_hint,
        )
    return image


def check_subscription_id(value: str | None, source: str) -> str | None:
    """An Azure subscription ID is a GUID: check it before any sign-in is attempted."""
    if value and not _GUID.fullmatch(value.strip()):
        raise click.BadParameter(
            f"{value!r} is not an Azure subscription ID, which is a GUID like "
            "00000000-0000-0000-0000-000000000000 (see `az account show --query id`)",
            param_hint=source,
        )
    return value.strip() if value else value
