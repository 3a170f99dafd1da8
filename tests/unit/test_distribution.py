"""The distribution's name, version and the original plugin: what a user installs and sees.

The original plugin (GetInData's, PyPI ``kedro-azureml``) installs the same import package, so
every install instruction must name ``kedro-azureml-next``, and ``kedro azureml`` says when the
original is installed next to it. A real ``.dist-info`` folder on ``sys.path`` stands in for an
installed distribution: ``importlib.metadata`` finds it as it finds pip's.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from kedro_azureml import __version__
from kedro_azureml.cli import DISTRIBUTION, commands, original_plugin_note
from kedro_azureml.project.dockerfiles import original_plugin_warning

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Kedro depends on tomli before 3.11
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[2]
FIX = "pip uninstall -y kedro-azureml && pip install --force-reinstall --no-deps kedro-azureml-next"


def _install_original(site: Path, version: str = "1.0.0") -> None:
    info = site / f"kedro_azureml-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: kedro-azureml\nVersion: {version}\n"
    )
    (info / "INSTALLER").write_text("pip\n")


def test_build_metadata_under_the_original_name_is_no_installation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An old build of this project left src/kedro_azureml.egg-info: no INSTALLER, no note."""
    info = tmp_path / "kedro_azureml.egg-info"
    info.mkdir()
    (info / "PKG-INFO").write_text("Metadata-Version: 2.1\nName: kedro-azureml\nVersion: 0.1.0\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert original_plugin_note() is None


def test_the_distribution_is_kedro_azureml_next() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["name"] == DISTRIBUTION == "kedro-azureml-next"
    assert "Framework :: Kedro" in project["classifiers"]
    assert project["license"] == "Apache-2.0"
    assert project["license-files"] == ["LICENSE"]
    assert "Apache License" in (REPO / "LICENSE").read_text().split("\n", 3)[1]
    assert (REPO / "src" / "kedro_azureml" / "py.typed").is_file()


def test_version_option_names_version_and_distribution() -> None:
    result = CliRunner().invoke(commands, ["azureml", "--version"])
    assert result.exit_code == 0
    assert result.output == f"kedro azureml {__version__} (kedro-azureml-next)\n"
    assert CliRunner().invoke(commands, ["azureml", "-V"]).output == result.output


def test_no_note_without_the_original_plugin() -> None:
    assert original_plugin_note() is None


def test_the_original_plugin_is_named_with_its_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _install_original(tmp_path, "0.8.0")
    monkeypatch.syspath_prepend(str(tmp_path))
    note = original_plugin_note()
    assert note == (
        "Warning: kedro-azureml 0.8.0 (the original plugin) is installed here too and shares "
        f"the import name kedro_azureml with kedro-azureml-next; fix: {FIX}"
    )
    # Every command says it first, in one line (here: before compile's own help). `output`
    # holds stdout and stderr with click 8.1 and 8.2 alike.
    result = CliRunner().invoke(commands, ["azureml", "compile", "--help"])
    assert result.exit_code == 0
    first, *rest = result.output.splitlines()
    assert first == note
    assert rest[0].startswith("Usage:") and note not in rest


@pytest.mark.parametrize(
    ("requirements", "warned"),
    [
        pytest.param("kedro~=1.7\nkedro-azureml[mlflow]>=0.8\n", True, id="original"),
        pytest.param("Kedro_AzureML==1.0.0  # pinned\n", True, id="original-spelled-otherwise"),
        pytest.param("kedro~=1.7\nkedro-azureml-next[mlflow]\n", False, id="this-plugin"),
        pytest.param("kedro~=1.7\n-e ../..[parquet]\n", False, id="path"),
    ],
)
def test_docker_init_warns_when_the_image_would_install_the_original(
    tmp_path: Path, requirements: str, warned: bool
) -> None:
    (tmp_path / "requirements.txt").write_text(requirements)
    warning = original_plugin_warning(tmp_path)
    if warned:
        assert warning == (
            "requirements.txt names kedro-azureml, the original plugin, so the image would run "
            "its steps, not this plugin's: replace it with kedro-azureml-next (same import "
            "name, same commands) and rebuild the image."
        )
    else:
        assert warning is None


# `pip install kedro-azureml`, `"kedro-azureml[mlflow]"` or a requirements line naming the
# original: each would install the other plugin.
_ORIGINAL_INSTALL = re.compile(
    r"pip install[^\n`]*?[\s\"'`]kedro-azureml(?![-\w])"
    r"|^\s*kedro-azureml\s*(?:\[|[<>=~!;]|$)"
    r"|[\"'`]kedro-azureml\[",
    re.MULTILINE,
)
_ALLOWED = {"pip uninstall kedro-azureml", "pip uninstall -y kedro-azureml"}


def _install_texts() -> list[Path]:
    files = [REPO / "README.md", REPO / "CONTRIBUTING.md", REPO / "Makefile"]
    files += sorted((REPO / "examples").glob("*/requirements*.txt"))
    files += sorted((REPO / "examples").glob("*/README.md"))
    files += sorted((REPO / "src" / "kedro_azureml").rglob("*.py"))
    files += sorted((REPO / "src" / "kedro_azureml" / "templates").iterdir())
    return files


def test_no_install_instruction_names_the_original_plugin() -> None:
    found = [
        f"{path.relative_to(REPO)}: {match.group(0).strip()}"
        for path in _install_texts()
        for match in _ORIGINAL_INSTALL.finditer(path.read_text())
        if not any(allowed in match.group(0) for allowed in _ALLOWED)
    ]
    assert found == []
    assert _ORIGINAL_INSTALL.search('pip install "kedro-azureml[mlflow]"')
    assert _ORIGINAL_INSTALL.search("kedro~=1.7\nkedro-azureml\n")
    assert not _ORIGINAL_INSTALL.search('pip install "kedro-azureml-next[mlflow]"')
