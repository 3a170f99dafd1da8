"""The compiled YAML of a job already built and validated by the SDK, kept by content.

Rendering a plan as an SDK ``PipelineJob``, validating it and dumping it costs more than
everything else a compile does (``import azure.ai.ml`` alone ~1.5 s, then ~2 s for a 1000-step
job), yet its result is a pure function of the step plan, the azureml.yml config, the compile
options, and the code that renders them (this plugin's source and the SDK's version). The key
is a hash of all of those; the value is the YAML the SDK-built job gave. A change to any of
them, down to one byte of a command or of this plugin's source, is another key, so the SDK
builds and validates that job afresh. Entries live in ``.kedro-azureml/compile-cache/``;
``KEDRO_AZUREML_COMPILE_CACHE=0`` turns the cache off.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import importlib.metadata
import json
import os
import sys
from functools import cache
from pathlib import Path
from typing import Any

from kedro_azureml.atomic import write_text_atomically

CACHE_DIR = ".kedro-azureml/compile-cache"
SWITCH_VARIABLE = "KEDRO_AZUREML_COMPILE_CACHE"
KEEP = 32  # entries kept per project: the newest
_PACKAGE_ROOT = Path(__file__).resolve().parents[1]
_KEY_VERSION = "1"


def cache_enabled() -> bool:
    return os.environ.get(SWITCH_VARIABLE, "1").strip().lower() not in {"0", "false", "no", "off"}


@cache
def _renderer_fingerprint() -> str:
    """This plugin's source (every module of the package) and the SDK's version."""
    digest = hashlib.sha256(_KEY_VERSION.encode())
    for path in sorted(_PACKAGE_ROOT.rglob("*.py")):
        digest.update(path.relative_to(_PACKAGE_ROOT).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    for package in ("azure-ai-ml", "marshmallow", "pydantic"):
        try:
            version = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            version = "-"
        digest.update(f"{package}=={version}\0".encode())
    digest.update(sys.version.encode())
    return digest.hexdigest()


_FIELDS: dict[type, tuple[str, ...] | None] = {}


def _dataclass_fields(kind: type) -> tuple[str, ...] | None:
    if kind not in _FIELDS:
        fields = dataclasses.fields(kind) if dataclasses.is_dataclass(kind) else None
        _FIELDS[kind] = None if fields is None else tuple(f.name for f in fields)
    return _FIELDS[kind]


_SCALARS = (str, int, float, bool, type(None))


def _plain(value: Any) -> Any:
    """A JSON-ready copy of ``value`` that keeps dict order (it decides the YAML's order).

    Called ~30 times per step of a plan: the common types are tested by exact type first.
    """
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is dict:
        return [[_plain(k), _plain(v)] for k, v in value.items()]
    if kind is list or kind is tuple:
        return [kind.__name__, [_plain(item) for item in value]]
    names = _dataclass_fields(kind)
    if names is not None:
        return [kind.__qualname__, {name: _plain(getattr(value, name)) for name in names}]
    return _plain_other(value)


def _plain_other(value: Any) -> Any:
    if hasattr(value, "model_dump"):  # pydantic config models
        return [type(value).__qualname__, value.model_dump(mode="json")]
    if isinstance(value, dict):
        return [[_plain(k), _plain(v)] for k, v in value.items()]
    if isinstance(value, list | tuple):
        return [type(value).__name__, [_plain(item) for item in value]]
    if isinstance(value, set | frozenset):
        return ["set", sorted(json.dumps(_plain(item)) for item in value)]
    if isinstance(value, bool | int | float | str):
        return value
    # An enum, a path: their text says all. Anything else is refused, so no value whose repr
    # hides its content can make two different jobs share a key.
    if isinstance(value, os.PathLike | enum.Enum):
        return [type(value).__qualname__, str(value)]
    raise TypeError(f"cannot key a compile on a {type(value).__name__}")


def compile_key(*parts: Any) -> str | None:
    """The cache key of a render of ``parts`` (plan, config, options, ...); None when some
    part cannot be keyed exactly, which means: build without the cache."""
    try:
        text = json.dumps([_renderer_fingerprint(), *(_plain(p) for p in parts)])
    except (TypeError, ValueError):
        return None
    return hashlib.sha256(text.encode()).hexdigest()


def read_cached(project_path: Path, key: str | None) -> str | None:
    if key is None or not cache_enabled():
        return None
    path = project_path / CACHE_DIR / f"{key}.yaml"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    os.utime(path)  # recently used: kept by the pruning below
    return text


def write_cached(project_path: Path, key: str | None, yaml_text: str) -> None:
    """Keep ``yaml_text`` under ``key``; a cache that cannot be written is no cache, no error."""
    if key is None or not cache_enabled():
        return
    write_entry(project_path, f"{key}.yaml", yaml_text, "*.yaml")


def write_entry(project_path: Path, name: str, text: str, kind: str) -> None:
    """Write one cache entry, then keep only the newest ``KEEP`` entries matching ``kind``
    (a glob); a cache that cannot be written is no cache, no error."""
    folder = project_path / CACHE_DIR
    try:
        folder.mkdir(parents=True, exist_ok=True)
        write_text_atomically(folder / name, text)
        entries = sorted(folder.glob(kind), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in entries[KEEP:]:
            old.unlink(missing_ok=True)
    except OSError:
        return
