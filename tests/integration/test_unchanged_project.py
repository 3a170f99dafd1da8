"""A repeated `run --local` of an unchanged project does not open it (``compile_shortcut``).

Opening the project imports its pipeline modules and their libraries, which every step imports
again. The job compiled from the very same files, packages, variables and options is reused;
any change to one of them compiles as always. The project's pipeline registry records each
process that imports it, in a file outside the project.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kedro_azureml.step.serialization import load_object
from tests.support.kedro_projects import kedro, last_run

pytestmark = pytest.mark.slow

INIT = ["azureml", "init", "rg", "ws", "exp", "cpu-cluster", "kedro-env@latest"]
RECORD = (  # steps get no such variable, as on Azure ML: only the CLI records
    "import os as _os, sys as _sys\n"
    "if 'IMPORTED_BY' in _os.environ:\n"
    "    with open(_os.environ['IMPORTED_BY'], 'a') as _record:\n"
    "        _record.write(' '.join(_sys.argv) + '\\n')\n"
)


def _run(project: Path, record: Path, **env: str) -> tuple[int, bool]:
    """The report's total, and whether `run --local` itself imported the project."""
    before = record.read_text().count("--local") if record.exists() else 0
    result = kedro(
        project, "azureml", "run", "--local", "--no-mlflow", IMPORTED_BY=str(record), **env
    )
    assert "Compiled 4 steps" in result.stdout
    total = load_object(str(last_run(project) / "outputs" / "report"))["total"]
    return total, record.read_text().count("--local") > before


def test_only_a_change_opens_the_project_again(small_project: Path, tmp_path: Path) -> None:
    registry = next((small_project / "src").glob("*/pipeline_registry.py"))
    registry.write_text(RECORD + registry.read_text())
    kedro(small_project, *INIT)
    record = tmp_path / "imported-by.txt"

    assert _run(small_project, record) == (165, True)  # factor 3 over 1..10
    assert _run(small_project, record) == (165, False)  # unchanged: not opened

    parameters = small_project / "conf/base/parameters.yml"
    parameters.write_text("factor: 4\n")
    assert _run(small_project, record) == (220, True)  # a config change is compiled
    assert _run(small_project, record) == (220, False)

    assert _run(small_project, record, SOME_SETTING="1") == (220, True)  # a variable

    registry.write_text(registry.read_text() + "\n# an edit\n")
    assert _run(small_project, record, SOME_SETTING="1") == (220, True)  # the code
