"""Each import-linter contract of pyproject.toml can break: a contract nothing could break is
useless. Every case copies the package, adds one import the contract forbids (inside a
function, as the code's lazy imports are), and runs ``lint-imports`` on the copy.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

LAYERS = "Layers point one way"
NO_CYCLES = "No import cycles between the parts of any package"
COMPILER_PURE = "The compiler is pure"
COMPILER_OFFLINE = "The compiler never signs in or touches storage"
AZURE_IO_IN_CLOUD = "Only kedro_azureml.cloud imports azure.identity"
STEP_STANDALONE = "Inside an Azure ML step"
CONTRACTS = [LAYERS, NO_CYCLES, COMPILER_PURE, COMPILER_OFFLINE, AZURE_IO_IN_CLOUD, STEP_STANDALONE]


@pytest.fixture(scope="session")
def lint_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One grimp cache for every case: the Azure SDK's 1400 modules are parsed once."""
    return tmp_path_factory.mktemp("import-linter-cache")


def lint_copy(tmp_path: Path, cache: Path, module: str = "", line: str = "") -> str:
    """``lint-imports`` output for a copy of the package with ``line`` added to ``module``."""
    shutil.copytree(REPO / "src" / "kedro_azureml", tmp_path / "src" / "kedro_azureml")
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    if module:
        path = tmp_path / "src" / "kedro_azureml" / module
        path.write_text(path.read_text() + f"\n\ndef _added() -> None:\n    {line}\n")
    result = subprocess.run(
        [str(LINT_IMPORTS), "--no-logo", "--cache-dir", str(cache)],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tmp_path / "src")},
        capture_output=True,
        text=True,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == (1 if module else 0), output
    return output


def verdicts(output: str) -> dict[str, str]:
    """``{contract name prefix: "KEPT" | "BROKEN"}`` from the summary lines."""
    summary = " ".join(output.split("Contracts:")[0].split())  # names wrap over lines
    return {
        name: re.search(re.escape(name) + r".*?\b(KEPT|BROKEN)\b", summary)[1]  # type: ignore[index]
        for name in CONTRACTS
    }


def test_the_code_keeps_every_contract(tmp_path: Path, lint_cache: Path) -> None:
    output = lint_copy(tmp_path, lint_cache)
    assert set(verdicts(output).values()) == {"KEPT"}, output


@pytest.mark.parametrize(
    ("module", "line", "broken", "shown"),
    [
        (
            "local/runner.py",
            "from kedro_azureml.cloud.assets import WorkspaceAssets",
            {LAYERS},
            "kedro_azureml.local.runner -> kedro_azureml.cloud.assets",
        ),
        (
            "compiler/naming.py",
            "from kedro_azureml.compiler.compile import compile_pipeline",
            {NO_CYCLES},
            "- .naming -> .compile (1 import)",
        ),
        (
            "compiler/plan.py",
            "from kedro_azureml.project.snapshot import scan_code_directory",
            {COMPILER_PURE, LAYERS},
            "kedro_azureml.compiler.plan -> kedro_azureml.project.snapshot",
        ),
        (
            "compiler/render.py",
            "import adlfs",
            {COMPILER_OFFLINE, AZURE_IO_IN_CLOUD},
            "kedro_azureml.compiler.render -> adlfs",
        ),
        (
            "commands/submit.py",
            "from azure.identity import DefaultAzureCredential",
            {AZURE_IO_IN_CLOUD},
            "kedro_azureml.commands.submit -> azure.identity",
        ),
        (
            "step/execute.py",
            "from azure.core.exceptions import HttpResponseError",
            {STEP_STANDALONE},
            "kedro_azureml.step.execute -> azure.core.exceptions",
        ),
    ],
    ids=[
        "local-imports-cloud",
        "cycle-in-compiler",
        "compiler-opens-project",
        "compiler-adlfs",
        "commands-sign-in",
        "step-azure-sdk",
    ],
)
def test_a_forbidden_import_breaks_its_contract(
    tmp_path: Path, lint_cache: Path, module: str, line: str, broken: set[str], shown: str
) -> None:
    output = lint_copy(tmp_path, lint_cache, module, line)
    assert {name for name, verdict in verdicts(output).items() if verdict == "BROKEN"} == broken
    assert shown in output
