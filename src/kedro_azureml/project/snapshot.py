"""What Azure ML takes of the code directory: the files ``.amlignore`` lets through, none empty.

Azure ML's SDK reads ``.amlignore`` (or ``.gitignore`` when there is none) from the root of the
code directory only, walks the tree following symlinked folders, and keeps every file for which
the last rule that matches its path is a negation (``!``) or no rule matches. Because every
file is judged by its own path, ``data/`` + ``!data/01_raw/`` re-includes ``data/01_raw/``
(git would not). Empty files and folders never arrive. This module reproduces exactly that
(``tests/unit/test_snapshot.py`` compares it with the SDK's own walker on a table of rule sets),
so ``run --local``, which runs steps in a copy made by these rules and must not import the SDK,
sees what Azure ML would, and ``run`` uploads a staged copy of the very same file set.

On purpose, we differ from the SDK where it would be unsafe or crash:

- some folders never go up, whatever the ignore file says (``NEVER_UPLOADED``: version control,
  cloud and cluster credentials, our own run folders);
- a file reached through a symlinked folder is judged by the path it gets in the snapshot (the
  SDK judges it by its target's location, so an ignored ``secrets/`` that is a symlink would go
  up);
- a symlink loop is followed once, a dangling symlink or an unreadable folder is skipped with a
  warning (the SDK recurses until the path is too long, or fails the upload).
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from kedro_azureml.errors import ConfigError

logger = logging.getLogger(__name__)

IGNORE_FILES = (".amlignore", ".gitignore")
# Never uploaded, at any depth, whatever the ignore file says (a negation cannot bring them back):
# version control (a remote URL may hold a token), CLI credential stores, our own run folders.
NEVER_UPLOADED_DIRS = frozenset(
    {".git", ".azure", ".ssh", ".aws", ".kube", ".gnupg", ".kedro-azureml"}
)
NEVER_UPLOADED_FILES = (".docker/config.json", ".git")  # ``.git`` is a file in submodules
_GLOB_CHARS = "*?[\\"


@dataclass
class SnapshotManifest:
    root: Path
    files: list[str] = field(default_factory=list)  # posix paths relative to root
    total_bytes: int = 0
    ignore_file: str | None = None
    # Files reached through a symlink: snapshot path -> the real file (judged by both names).
    link_targets: dict[str, Path] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def source(self, rel: str) -> Path:
        """Where the content of snapshot file ``rel`` is read from."""
        return self.link_targets.get(rel) or self.root / rel


class IgnoreRules:
    """The root ignore file's rules, applied as the Azure ML SDK applies them.

    A path is excluded when the last rule matching it excludes it (gitwildmatch patterns, the
    same regular expressions as the SDK's vendored copy of ``pathspec``).
    """

    def __init__(self, lines: list[str], source: str | None = None) -> None:
        from pathspec.patterns.gitwildmatch import GitWildMatchPattern, GitWildMatchPatternError

        self.source = source
        self.patterns = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # pathspec 1.x renamed it
            for number, line in enumerate(lines, start=1):
                try:
                    pattern = GitWildMatchPattern(line.rstrip())
                except GitWildMatchPatternError as exc:
                    raise ConfigError(
                        f"{source or 'ignore file'}:{number}: {line.strip()!r} is not a valid "
                        f"ignore pattern ({exc}). Fix or remove that line."
                    ) from None
                if pattern.include is not None:
                    self.patterns.append((pattern, line.strip()))
        self._negations = [text[1:] for pattern, text in self.patterns if not pattern.include]

    @classmethod
    def for_directory(cls, root: Path) -> IgnoreRules:
        """``.amlignore``, else ``.gitignore``, from ``root`` only (as the SDK reads them)."""
        for name in IGNORE_FILES:
            candidate = root / name
            if candidate.exists():
                try:
                    text = candidate.read_text(encoding="utf-8-sig")
                except (OSError, UnicodeDecodeError) as exc:
                    raise ConfigError(f"Cannot read {candidate}: {exc}") from None
                return cls(text.splitlines(), name)
        return cls([])

    def excluded(self, rel: str) -> bool:
        matched = False
        for pattern, _ in self.patterns:
            if pattern.match_file(rel) is not None:
                matched = bool(pattern.include)
        return matched

    def prunable(self, rel_dir: str) -> bool:
        """True when no file under folder ``rel_dir`` can be let through: skip walking it.

        The folder's own path must be excluded, and no negation may reach below it. A negation
        anchored to the root (a slash before its end) reaches only below its literal prefix;
        any other negation (``!keep.md``, ``!**/x``) may match anywhere.
        """
        if not self.excluded(f"{rel_dir}/"):
            return False
        below = f"{rel_dir}/"
        for negation in self._negations:
            text = negation.rstrip("/")
            if "/" not in text:
                return False
            text = text.lstrip("/")
            prefix = text[: min((text.find(c) for c in _GLOB_CHARS if c in text), default=None)]
            if prefix.startswith(below) or below.startswith(prefix):
                return False
        return True


def never_uploaded(rel: str) -> bool:
    parts = rel.split("/")
    return any(part in NEVER_UPLOADED_DIRS for part in parts[:-1]) or any(
        rel == name or rel.endswith(f"/{name}") for name in NEVER_UPLOADED_FILES
    )


@dataclass
class _Walk:
    root: Path
    rules: IgnoreRules
    manifest: SnapshotManifest

    def warn(self, message: str) -> None:
        logger.warning(message)
        self.manifest.warnings.append(message)

    def folder(self, path: Path, rel_dir: str, ancestors: frozenset[str], linked: bool) -> None:
        try:
            entries = sorted(os.scandir(path), key=lambda entry: entry.name)
        except OSError as exc:
            self.warn(f"Skipped folder {rel_dir or '.'} of the code snapshot: {exc.strerror}.")
            return
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            try:
                self.entry(entry, rel, ancestors, linked)
            except OSError as exc:
                self.warn(f"Skipped {rel} in the code snapshot: {exc.strerror or exc}.")

    def entry(
        self, entry: os.DirEntry[str], rel: str, ancestors: frozenset[str], linked: bool
    ) -> None:
        is_link = entry.is_symlink()
        try:
            info = entry.stat()  # follows symlinks
        except FileNotFoundError:
            if is_link:
                self.warn(
                    f"Skipped {rel} in the code snapshot: it is a symlink to "
                    f"{os.readlink(entry.path)}, which does not exist."
                )
                return
            raise
        if stat.S_ISDIR(info.st_mode):
            if entry.name in NEVER_UPLOADED_DIRS or self.rules.prunable(rel):
                return
            real = os.path.realpath(entry.path)
            if real in ancestors:
                self.warn(
                    f"Skipped {rel} in the code snapshot: it is a symlink to {real}, a folder "
                    "that contains it (a loop)."
                )
                return
            self.folder(Path(entry.path), rel, ancestors | {real}, linked or is_link)
        elif stat.S_ISREG(info.st_mode):
            self.file(entry, rel, info.st_size, linked or is_link)
        elif not self.rules.excluded(rel) and not never_uploaded(rel):
            self.warn(f"Skipped {rel} in the code snapshot: not a regular file or folder.")

    def file(self, entry: os.DirEntry[str], rel: str, size: int, linked: bool) -> None:
        if not size or never_uploaded(rel) or self.rules.excluded(rel):
            return  # Azure ML drops empty files.
        self.manifest.files.append(rel)
        self.manifest.total_bytes += size
        if linked:
            self.manifest.link_targets[rel] = Path(os.path.realpath(entry.path))


def scan_code_directory(root: Path) -> SnapshotManifest:
    """The files Azure ML would take from ``root``, sorted by path; see the module docstring."""
    rules = IgnoreRules.for_directory(root)
    manifest = SnapshotManifest(root=root, ignore_file=rules.source)
    walk = _Walk(root, rules, manifest)
    walk.folder(root, "", frozenset({os.path.realpath(root)}), linked=False)
    return manifest


def iter_files(manifest: SnapshotManifest) -> Iterator[tuple[str, Path]]:
    """``(snapshot path, where to read it)`` for every file of the manifest."""
    for rel in manifest.files:
        yield rel, manifest.source(rel)


def copy_snapshot(manifest: SnapshotManifest, destination: Path) -> None:
    """Real copies (symlinks resolved) of exactly the manifest's files under ``destination``."""
    for rel, source in iter_files(manifest):
        target = destination / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    destination.mkdir(parents=True, exist_ok=True)
