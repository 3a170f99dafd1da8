"""Is a code snapshot a Kedro project a step can run? ``compile`` and ``run`` ask before any step.

A step runs ``kedro azureml execute`` inside the snapshot, and Kedro needs three things there:
``pyproject.toml`` (it finds the project by it), the package, and ``conf/base``. Without one of
them every step would fail on Azure ML after the upload, or, worse, ``run --local`` would pass
by finding them elsewhere. The error names what is missing and the ignore rule that removed it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pathspec

from kedro_azureml.errors import CompileError
from kedro_azureml.project.snapshot import SnapshotManifest, never_uploaded

PYPROJECT = "pyproject.toml"
# Read without a TOML parser (tomllib is 3.11+): two plain string keys of [tool.kedro].
_KEDRO_KEY = re.compile(r"""^\s*(package_name|source_dir)\s*=\s*["']([^"']+)["']""", re.M)


@dataclass(frozen=True)
class Requirement:
    what: str  # how the message names it
    path: str  # posix path relative to the code directory; a folder ends with "/"


def project_requirements(root: Path, package_name: str | None = None) -> list[Requirement]:
    """What a snapshot of ``root`` must hold, with the package as ``pyproject.toml`` names it."""
    try:
        kedro = dict(_KEDRO_KEY.findall((root / PYPROJECT).read_text(errors="replace")))
    except OSError:
        kedro = {}
    package_name = package_name or kedro.get("package_name")
    source_dir = kedro.get("source_dir", "src").strip("/")
    requirements = [Requirement(PYPROJECT, PYPROJECT)]
    if package_name:
        package = f"{source_dir}/{package_name}/"
        requirements.append(Requirement(f"the package {package}", package))
    requirements.append(Requirement("conf/base/", "conf/base/"))
    return requirements


def missing_from_snapshot(manifest: SnapshotManifest, package_name: str | None = None) -> list[str]:
    """One sentence per requirement the snapshot misses, saying why it is missing."""
    files = manifest.files
    problems = []
    for requirement in project_requirements(manifest.root, package_name):
        if requirement.path.endswith("/"):
            present = any(name.startswith(requirement.path) for name in files)
        else:
            present = requirement.path in files
        if not present:
            problems.append(f"{requirement.what} {_why_missing(manifest, requirement.path)}")
    return problems


def check_code_snapshot(manifest: SnapshotManifest, package_name: str | None = None) -> None:
    """Refuse a code directory whose snapshot could not run a Kedro step."""
    problems = missing_from_snapshot(manifest, package_name)
    if problems:
        raise CompileError(
            f"The code snapshot of {manifest.root} cannot run a Kedro step: "
            + "; ".join(problems)
            + ". Azure ML uploads only this snapshot, so every step would fail. Change the "
            "ignore rule (or azure.code_directory in azureml.yml) so that pyproject.toml, the "
            "package and conf/base are uploaded."
        )


def _why_missing(manifest: SnapshotManifest, path: str) -> str:
    on_disk = manifest.root / path
    if path.endswith("/"):
        candidates = (
            sorted(p for p in on_disk.rglob("*") if p.is_file()) if on_disk.is_dir() else []
        )
    else:
        candidates = [on_disk] if on_disk.is_file() else []
    if not candidates:
        return f"does not exist in {manifest.root}"
    for candidate in candidates:
        relative = candidate.relative_to(manifest.root).as_posix()
        rule = _excluding_rule(manifest, relative)
        if rule:
            return f"is excluded by {rule}"
    if all(candidate.stat().st_size == 0 for candidate in candidates):
        return "is empty (Azure ML leaves empty files out of the snapshot)"
    return "is left out of the snapshot"


def _excluding_rule(manifest: SnapshotManifest, relative: str) -> str | None:
    """The last rule that matches ``relative``, when it excludes it: "<file> line N (`rule`)"."""
    if never_uploaded(relative):
        return "kedro-azureml's own rule (version control, credential stores and run folders are never uploaded)"
    sources: list[tuple[str, str]] = []
    if manifest.ignore_file:
        text = (manifest.root / manifest.ignore_file).read_text(errors="replace")
        sources += [(manifest.ignore_file, line) for line in text.splitlines()]
    verdict = None
    line_numbers: dict[str, int] = {}
    for source, line in sources:
        line_numbers[source] = line_numbers.get(source, 0) + 1
        patterns = pathspec.PathSpec.from_lines("gitwildmatch", [line]).patterns
        if patterns and patterns[0].include is not None and patterns[0].match_file(relative):
            verdict = (source, line_numbers[source], line.strip(), patterns[0].include)
    if verdict is None or not verdict[3]:
        return None
    source, number, rule, _ = verdict
    return f"{source} line {number} (`{rule}`)"
