"""What Azure ML takes of the code directory: files ``.amlignore`` lets through, none empty.

Azure ML reads ``.amlignore`` (or ``.gitignore`` when there is none) and silently drops empty
files and folders. ``run --local`` runs steps in a copy made by these same rules, so a step
that needs a dropped file fails here first; the submit path uses them to show what goes up.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

IGNORE_FILES = (".amlignore", ".gitignore")
# Our own run folders never belong in a snapshot, whatever the ignore file says.
ALWAYS_EXCLUDED = (".kedro-azureml/",)
# Matched case-insensitively: file names anywhere in the tree, and paths from the root.
SECRET_NAMES = (
    "*credentials*",
    ".env",
    "*.env",
    ".env.*",
    "*.pem",
    "*.pfx",
    "*.p12",
    "id_rsa*",
    "id_ed25519*",
)
SECRET_PATHS = ("conf/local/*",)


def looks_like_secret(path: str) -> bool:
    lowered = path.lower()
    name = lowered.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in SECRET_NAMES) or any(
        fnmatch.fnmatchcase(lowered, pattern) for pattern in SECRET_PATHS
    )


@dataclass
class SnapshotManifest:
    root: Path
    files: list[str] = field(default_factory=list)  # posix paths relative to root
    total_bytes: int = 0
    ignore_file: str | None = None

    def files_containing(self, secret: str, max_bytes: int = 2_000_000) -> list[str]:
        """Files (up to ``max_bytes`` each: config and code, not data) that contain ``secret``.

        Catches a key pasted into an ordinarily named file, which no name pattern would.
        """
        needle = secret.encode()
        found = []
        for name in self.files:
            path = self.root / name
            if path.stat().st_size <= max_bytes and needle in path.read_bytes():
                found.append(name)
        return found

    @property
    def suspicious(self) -> list[str]:
        """Files that look like secrets (credentials, conf/local, .env, private keys)."""
        return [f for f in self.files if looks_like_secret(f)]


def _ignore_spec(root: Path) -> tuple[pathspec.PathSpec, str | None]:
    lines = list(ALWAYS_EXCLUDED)
    used = None
    for name in IGNORE_FILES:
        candidate = root / name
        if candidate.is_file():
            lines += candidate.read_text().splitlines()
            used = name
            break
    return pathspec.PathSpec.from_lines("gitwildmatch", lines), used


def _walk(root: Path, spec: pathspec.PathSpec) -> Iterator[tuple[str, int]]:
    for current, dirs, files in os.walk(root):
        rel_dir = Path(current).relative_to(root).as_posix()
        prefix = "" if rel_dir == "." else f"{rel_dir}/"
        dirs[:] = sorted(d for d in dirs if not spec.match_file(f"{prefix}{d}/"))
        for name in sorted(files):
            rel = f"{prefix}{name}"
            if spec.match_file(rel):
                continue
            size = os.path.getsize(os.path.join(current, name))
            if size:  # Azure ML drops empty files.
                yield rel, size


def scan_code_directory(root: Path) -> SnapshotManifest:
    spec, used = _ignore_spec(root)
    manifest = SnapshotManifest(root=root, ignore_file=used)
    for rel, size in _walk(root, spec):
        manifest.files.append(rel)
        manifest.total_bytes += size
    return manifest


def copy_snapshot(manifest: SnapshotManifest, destination: Path) -> None:
    for rel in manifest.files:
        target = destination / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(manifest.root / rel, target)
    destination.mkdir(parents=True, exist_ok=True)
