"""The built wheel, as PyPI would get it, and installs from it and from the repository path.

A fresh venv each, with pip: the distribution is kedro-azureml-next, it carries LICENSE and
py.typed, registers the `kedro azureml` commands, and never brings the original plugin
(PyPI's kedro-azureml). The build runs on a copy of the sources, so nothing is written into
the repository.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from email.parser import HeaderParser
from pathlib import Path

import pytest

from kedro_azureml import __version__

REPO = Path(__file__).resolve().parents[2]
SOURCES = ["pyproject.toml", "README.md", "LICENSE", "src"]

INSPECT = r"""
import importlib.metadata as m, json
from importlib.resources import files
found = {}
for name in ("kedro-azureml-next", "kedro-azureml"):
    try:
        found[name] = m.version(name)
    except m.PackageNotFoundError:
        found[name] = None
dist = m.distribution("kedro-azureml-next")
print(json.dumps({
    "versions": found,
    "licenses": sorted(str(f) for f in dist.files if "licenses" in str(f)),
    "py_typed": files("kedro_azureml").joinpath("py.typed").is_file(),
    "commands": sorted(
        f"{ep.name}={ep.value}" for ep in dist.entry_points if ep.group == "kedro.project_commands"
    ),
}))
"""


def _run(*args: str | Path, cwd: Path | None = None) -> str:
    result = subprocess.run(
        [str(arg) for arg in args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, f"{args}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("sources")
    ignore = shutil.ignore_patterns("*.egg-info", "__pycache__", "*.pyc")
    for name in SOURCES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=ignore)
        else:
            shutil.copy2(source, copy / name)
    return copy


@pytest.fixture(scope="module")
def wheel(sources: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    _run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", out, sources)
    (built,) = out.glob("*.whl")
    return built


def test_the_wheel_carries_license_py_typed_and_the_metadata(wheel: Path) -> None:
    assert wheel.name == f"kedro_azureml_next-{__version__}-py3-none-any.whl"
    info = f"kedro_azureml_next-{__version__}.dist-info"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        license_text = archive.read(f"{info}/licenses/LICENSE").decode()
        meta = HeaderParser().parsestr(archive.read(f"{info}/METADATA").decode())
    assert "kedro_azureml/py.typed" in names
    assert "kedro_azureml/templates/azureml.yml.tmpl" in names
    assert "Apache License" in license_text and "Version 2.0, January 2004" in license_text
    assert meta["Name"] == "kedro-azureml-next"
    assert meta["Version"] == __version__
    assert meta["License-Expression"] == "Apache-2.0"
    assert meta.get_all("License-File") == ["LICENSE"]
    assert "Framework :: Kedro" in meta.get_all("Classifier")
    assert "Programming Language :: Python :: 3.10" in meta.get_all("Classifier")
    assert meta["Requires-Python"] == ">=3.10"
    assert any(url.startswith("Original plugin, ") for url in meta.get_all("Project-URL"))
    requires = meta.get_all("Requires-Dist")
    assert "azure-ai-ml>=1.27" in requires
    assert not [r for r in requires if r.split("[")[0].split(">")[0].strip() == "kedro-azureml"]


@pytest.mark.parametrize("source", ["wheel", "repository path"])
def test_installs_under_its_own_name(
    source: str, wheel: Path, sources: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", venv)
    target = wheel if source == "wheel" else sources
    _run(venv / "bin" / "python", "-m", "pip", "install", "--quiet", "--no-deps", target)
    seen = json.loads(_run(venv / "bin" / "python", "-c", INSPECT, cwd=tmp_path))
    assert seen == {
        "versions": {"kedro-azureml-next": __version__, "kedro-azureml": None},
        "licenses": [f"kedro_azureml_next-{__version__}.dist-info/licenses/LICENSE"],
        "py_typed": True,
        "commands": ["azureml=kedro_azureml.cli:commands"],
    }
