"""What the project's requirements would install on Azure ML, for MLflow tracking there.

In an Azure ML step ``MLFLOW_TRACKING_URI`` is the workspace's (``azureml://...``), which MLflow
reaches only through the ``azureml-mlflow`` plugin. A project that tracks with kedro-mlflow but
leaves it out of its requirements fails in every step, on Azure ML only: ``run --local`` uses a
local store and never notices. So ``run`` warns before submitting, and ``docker-init`` adds
the package to the image it describes.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Kedro depends on tomli before 3.11
    import tomli as tomllib

AZUREML_MLFLOW = "azureml-mlflow"
KEDRO_MLFLOW = "kedro-mlflow"
PLUGIN = "kedro-azureml-next"
# GetInData's plugin: same import package (kedro_azureml), another `kedro azureml execute`.
ORIGINAL_PLUGIN = "kedro-azureml"
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?")
_INCLUDE = re.compile(r"^\s*(?:-r|--requirement)[\s=]+(\S+)")


def normalize(name: str) -> str:
    """PEP 503: ``Azureml_MLflow`` and ``azureml-mlflow`` are one package."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass
class DeclaredRequirements:
    """Package names (normalized, ``name[extra]`` too) the project's requirements declare."""

    packages: set[str] = field(default_factory=set)
    files: list[str] = field(default_factory=list)

    def names(self, package: str) -> bool:
        if package == AZUREML_MLFLOW and f"{PLUGIN}[mlflow]" in self.packages:
            return True  # our mlflow extra brings it
        return normalize(package) in self.packages


def _add(requirements: DeclaredRequirements, line: str) -> None:
    match = _NAME.match(line)
    if not match or line.lstrip().startswith("-"):
        return
    name = normalize(match.group(1))
    requirements.packages.add(name)
    for extra in (match.group(2) or "").split(","):
        if extra.strip():
            requirements.packages.add(f"{name}[{normalize(extra.strip())}]")


def _read_file(path: Path, project: Path, requirements: DeclaredRequirements) -> None:
    label = path.relative_to(project).as_posix() if path.is_relative_to(project) else str(path)
    if label in requirements.files or not path.is_file():
        return
    requirements.files.append(label)
    for raw in path.read_text(errors="replace").splitlines():
        line = raw.split(" #", 1)[0].strip()
        include = _INCLUDE.match(line)
        if include:
            _read_file((path.parent / include.group(1)).resolve(), project, requirements)
        elif line and not line.startswith("#"):
            _add(requirements, line)


def declared_requirements(
    project_path: Path, files: list[str] | None = None
) -> DeclaredRequirements:
    """What ``files`` (default: every ``requirements*.txt`` at the root and in ``src/``, and
    pyproject.toml's dependencies) declare, following ``-r`` includes.

    Any of them may be what the Azure ML environment is built from, so a package named in one
    counts: the check is there to catch a package left out everywhere.
    """
    project = project_path.resolve()
    requirements = DeclaredRequirements()
    candidates = (
        [project / name for name in files]
        if files is not None
        else sorted(project.glob("requirements*.txt"))
        + sorted(project.glob("src/requirements*.txt"))
    )
    for path in candidates:
        _read_file(path.resolve(), project, requirements)
    if files is None and (project / "pyproject.toml").is_file():
        _read_pyproject(project / "pyproject.toml", requirements)
    return requirements


def _read_pyproject(path: Path, requirements: DeclaredRequirements) -> None:
    try:
        table = tomllib.loads(path.read_text()).get("project", {})
    except tomllib.TOMLDecodeError:
        return
    lines = list(table.get("dependencies") or [])
    for extra in (table.get("optional-dependencies") or {}).values():
        lines.extend(extra)
    if lines:
        requirements.files.append(path.name)
    for line in lines:
        _add(requirements, str(line))


def kedro_mlflow_evidence(conf_dirs: list[Path], requirements: DeclaredRequirements) -> str | None:
    """Why the project looks like it tracks with kedro-mlflow, or None."""
    if requirements.names(KEDRO_MLFLOW):
        return f"its requirements name {KEDRO_MLFLOW}"
    for folder in conf_dirs:
        for path in sorted(folder.glob("**/*.y*ml")):
            if path.name.startswith("mlflow"):
                return f"{folder.name}/{path.relative_to(folder).as_posix()} configures it"
            if path.name.startswith("catalog") and "kedro_mlflow." in path.read_text(
                errors="replace"
            ):
                return f"{folder.name}/{path.relative_to(folder).as_posix()} uses its datasets"
    return None


def tracking_requirements_warning(project_path: Path, conf_dirs: list[Path]) -> str | None:
    """A warning when the project tracks with kedro-mlflow but its requirements would leave
    kedro-mlflow or azureml-mlflow out of the Azure ML environment; None when all is there."""
    requirements = declared_requirements(project_path)
    evidence = kedro_mlflow_evidence(conf_dirs, requirements)
    if evidence is None:
        return None
    missing = [name for name in (KEDRO_MLFLOW, AZUREML_MLFLOW) if not requirements.names(name)]
    if not missing:
        return None
    where = ", ".join(requirements.files) or "no requirements file"
    return (
        f"This project tracks with kedro-mlflow ({evidence}), but its requirements ({where}) "
        f"do not name {' or '.join(missing)}. In Azure ML steps MLflow's tracking URI is the "
        f"workspace's (azureml://...), which MLflow reaches only through {AZUREML_MLFLOW}, and "
        f"without {KEDRO_MLFLOW} the steps do not track at all. Add {', '.join(missing)} to "
        "requirements.txt and rebuild the Azure ML environment (`kedro azureml docker-init` "
        "writes a Dockerfile that installs it)."
    )
