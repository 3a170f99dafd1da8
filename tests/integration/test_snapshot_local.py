"""run --local runs steps in Azure ML's snapshot: symlinks, lock files and negations as the SDK."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from kedro_azureml.step.serialization import load_object
from tests.support.kedro_projects import kedro, last_run

pytestmark = pytest.mark.slow

INIT = ["azureml", "init", "rg", "ws", "exp", "cpu-cluster", "kedro-env@latest"]


def test_symlinked_raw_data_a_dangling_link_and_a_negation(
    small_project: Path, tmp_path: Path
) -> None:
    kedro(small_project, *INIT)
    # data/01_raw lives elsewhere (a shared drive), linked in: kedro run reads it, so must steps.
    shared = tmp_path / "shared_raw"
    shutil.move(small_project / "data" / "01_raw", shared)
    (small_project / "data" / "01_raw").symlink_to(shared, target_is_directory=True)
    # An editor's lock file: a symlink to nothing.
    lock = small_project / "src" / "demo" / ".#pipeline_registry.py"
    lock.symlink_to("user@host.4242:1700000000")
    # data/ excluded, data/01_raw/ re-included: Azure ML takes data/01_raw, so must we.
    (small_project / ".amlignore").write_text(".venv/\ndata/\n!data/01_raw/\nconf/local/\n")

    result = kedro(small_project, "azureml", "run", "--local", "--no-mlflow")

    run_dir = last_run(small_project)
    assert load_object(str(run_dir / "outputs" / "report")) == {"total": 165, "rows": 10, "max": 30}
    # The snapshot itself lived outside the project and is gone; its file list stays.
    listing = (run_dir / f"snapshot-{small_project.name}.txt").read_text().splitlines()
    assert "data/01_raw/numbers.csv" in listing
    assert not any(".#pipeline_registry.py" in line for line in listing)
    output = " ".join((result.stdout + result.stderr).split())
    assert "Skipped src/demo/.#pipeline_registry.py in the code snapshot: it is a symlink" in output
    assert "Traceback" not in output
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["succeeded"] is True
