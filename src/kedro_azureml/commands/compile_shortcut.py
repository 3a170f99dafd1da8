"""A compile-cache hit found without opening the Kedro project, for ``run --local``.

The compile cache (``compile_cache``) is keyed by the step plan, which takes opening the project:
importing its pipeline modules and their libraries (scikit-learn, pandas: seconds), which every
step then imports again. Yet the plan is a function of the project's files, the installed
packages, the environment variables and the command's options. This module keys a compiled job
by those inputs themselves, read as bytes, so a repeated ``run --local`` of an unchanged
project skips opening it.

What the key reads, and why it is enough: the project's top-level files a compile reads
(``pyproject.toml``, ``.amlignore``...) and every file under ``conf/`` and ``src/`` (the code
and config Kedro reads; a project that moves them elsewhere gets no shortcut), the name and
version of every installed distribution, every environment variable (``KEDRO_ENV``,
``${oc.env:...}``, whatever ``settings.py`` reads), the options and this plugin's own source. A project whose pipelines come from an editable package outside it, or
from files elsewhere (``-j``/filters check data files), gets no shortcut: it is compiled as
always. Any change, down to a byte, is another key; a miss costs only the hashing.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kedro_azureml.commands.compile_cache import (
    CACHE_DIR,
    _plain,
    _renderer_fingerprint,
    cache_enabled,
    write_entry,
)

_HASHED_FOLDERS = ("conf", "src")
# The top-level files a compile reads: Kedro's metadata, the code upload's ignore rules.
_TOP_LEVEL_FILES = (
    "pyproject.toml",
    ".amlignore",
    ".gitignore",
    ".amlsecrets",
    ".secrets.baseline",
    "setup.py",
    "setup.cfg",
)
# A project that moves its code or config elsewhere is compiled as always.
_MOVED_SOURCE = re.compile(r"^\s*source_dir\s*=\s*[\"'](?!src[\"'])", re.MULTILINE)
_MOVED_CONF = re.compile(r"^\s*CONF_SOURCE\s*=", re.MULTILINE)
_SKIPPED_PARTS = frozenset({"__pycache__", ".ipynb_checkpoints"})
# Variables that change between shells, never a project's config.
_VOLATILE_VARIABLES = frozenset({"PWD", "OLDPWD", "SHLVL", "_", "COLUMNS", "LINES"})
_OURS = frozenset({"kedro_azureml_next"})  # the start of this plugin's metadata folder


@dataclass(frozen=True)
class Shortcut:
    """What ``run --local`` needs of a compile it does not repeat."""

    yaml_key: str  # the compile cache's key of the YAML
    steps: int
    env: str
    env_origin: str


def project_key(project_path: Path, *parts: Any) -> str | None:
    """The key of the project as it is now, compiled with ``parts`` (options...); None when
    the project cannot be keyed by its files (see the module's docstring)."""
    if not cache_enabled() or _layout_moved(project_path):
        return None
    root = project_path.resolve()
    digest = hashlib.sha256(_renderer_fingerprint().encode())
    try:
        digest.update(json.dumps([_plain(part) for part in parts]).encode())
        _hash_files(digest, root)
        distributions = _distributions(root)
    except (OSError, TypeError, ValueError):
        return None
    if distributions is None:
        return None
    digest.update("\0".join(distributions).encode())
    for name, value in sorted(os.environ.items()):
        if name not in _VOLATILE_VARIABLES:
            digest.update(f"{name}={value}\0".encode())
    return digest.hexdigest()


def _hash_files(digest: Any, root: Path) -> None:
    paths = [root / name for name in _TOP_LEVEL_FILES if (root / name).is_file()]
    for folder in _HASHED_FOLDERS:
        if (root / folder).is_dir():
            paths += [
                path
                for path in (root / folder).rglob("*")
                if path.is_file() and not _SKIPPED_PARTS.intersection(path.parts)
            ]
    for path in sorted(paths):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())


def _layout_moved(root: Path) -> bool:
    try:
        if _MOVED_SOURCE.search((root / "pyproject.toml").read_text(encoding="utf-8")):
            return True
        settings = list((root / "src").glob("*/settings.py"))
        return any(_MOVED_CONF.search(path.read_text(encoding="utf-8")) for path in settings)
    except (OSError, UnicodeDecodeError):
        return True


def _distributions(project_root: Path) -> list[str] | None:
    """The installed distributions, by their metadata folders' names (name and version);
    None when one is installed editable from outside the project (its source could change the
    pipeline unseen). Folder names, not parsed metadata: ten times faster."""
    found = [sys.version]
    for entry in dict.fromkeys(sys.path):
        try:
            names = sorted(os.listdir(entry or "."))
        except OSError:
            continue
        for name in names:
            if not name.endswith((".dist-info", ".egg-info", ".pth")):
                continue
            found.append(f"{entry}/{name}")
            if name.endswith(".pth") or name.split("-")[0].lower() in _OURS:
                continue  # a .pth names a folder; this plugin is in the renderer's fingerprint
            direct = Path(entry or ".", name, "direct_url.json")
            if direct.is_file() and _editable_elsewhere(direct, project_root):
                return None
    return found


def _editable_elsewhere(direct_url: Path, project_root: Path) -> bool:
    try:
        data = json.loads(direct_url.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return True
    if not (data.get("dir_info") or {}).get("editable"):
        return False
    return not str(data.get("url", "")).startswith(f"file://{project_root}")


def _path(project_path: Path, key: str) -> Path:
    return project_path / CACHE_DIR / f"project-{key}.json"


def read_shortcut(project_path: Path, key: str | None) -> Shortcut | None:
    if key is None:
        return None
    try:
        data = json.loads(_path(project_path, key).read_text(encoding="utf-8"))
        return Shortcut(**data)
    except (OSError, ValueError, TypeError):
        return None


def write_shortcut(project_path: Path, key: str | None, shortcut: Shortcut) -> None:
    """Keep ``shortcut`` (and the newest few, as the compile cache keeps its YAML)."""
    if key is not None:
        text = json.dumps(shortcut.__dict__)
        write_entry(project_path, _path(project_path, key).name, text, "project-*.json")
