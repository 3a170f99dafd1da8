"""The local runner on steps that are plain bash commands: real processes, no Kedro."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest

from kedro_azureml.contract.storage_paths import is_run_id
from kedro_azureml.errors import KedroAzureMLError
from kedro_azureml.local.job import LocalStep
from kedro_azureml.local.runner import LocalJobRunner
from kedro_azureml.local.snapshots import (
    OWNER_FILE,
    kedro_project_above,
    remove_abandoned,
    snapshots_home,
)

# What a step's datasets do last: a completion marker naming the run (from Azure ML's variable).
MARK_OUT = (
    'printf \'{"run_id": "%s"}\' "$AZUREML_ROOT_RUN_ID" > ${{outputs.out}}/_kedro_azureml.json'
)


def _step(
    name: str,
    command: str,
    *,
    inputs: dict[str, tuple[str, str]] | None = None,
    outputs: tuple[str, ...] = ("out",),
) -> LocalStep:
    return LocalStep(
        name=name,
        display_name=name,
        command=command,
        environment_variables={},
        inputs=inputs or {},
        outputs={port: None for port in outputs},
        code=None,
    )


def _runner(tmp_path: Path, *steps: LocalStep, **kwargs: object) -> LocalJobRunner:
    return LocalJobRunner(
        list(steps), run_dir=tmp_path / "run", project_dir=tmp_path, max_workers=2, **kwargs
    )


def test_every_run_gets_its_own_random_id(tmp_path: Path) -> None:
    ids = {_runner(tmp_path / str(i), _step("s", MARK_OUT)).run_id for i in range(20)}
    assert len(ids) == 20
    assert all(is_run_id(run_id) and run_id.startswith("local-") for run_id in ids)


def test_steps_see_the_run_id_as_azure_ml_sets_it(tmp_path: Path) -> None:
    step = _step(
        "env",
        f'echo "$AZUREML_ROOT_RUN_ID $AZUREML_RUN_ID" > ${{{{outputs.out}}}}/ids && {MARK_OUT}',
    )
    runner = _runner(tmp_path, step, run_id="local-abc")
    result = runner.run()
    assert result.succeeded, result.steps["env"].reason
    ids = (runner.output_folder("env", "out") / "ids").read_text().split()
    assert ids == ["local-abc", "local-abc_env"]
    assert json.loads(result.to_json())["run_id"] == "local-abc"


def test_an_output_marked_by_another_run_fails_the_step(tmp_path: Path) -> None:
    produce = _step(
        "produce",
        "echo 1 > ${{outputs.out}}/data.txt && "
        'echo \'{"run_id": "local-other"}\' > ${{outputs.out}}/_kedro_azureml.json',
    )
    consume = _step(
        "consume",
        f"cat ${{{{inputs.src}}}}/data.txt && {MARK_OUT}",
        inputs={"src": ("produce", "out")},
    )
    result = _runner(tmp_path, produce, consume, run_id="local-mine").run()
    assert result.steps["produce"].status == "failed"
    assert result.steps["produce"].returncode == 0
    assert (
        "output 'out' was written by run local-other, not by this run (local-mine)"
        in result.steps["produce"].reason
    )
    assert result.steps["consume"].status == "skipped"


def test_snapshots_go_where_no_kedro_project_encloses_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    (project / "tmp").mkdir(parents=True)
    (project / "pyproject.toml").write_text("[tool.kedro]\npackage_name = 'demo'\n")
    monkeypatch.setattr(tempfile, "tempdir", str(project / "tmp"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    home = snapshots_home()
    assert home.parent == tmp_path / "cache" / "kedro-azureml"
    assert kedro_project_above(home) is None
    monkeypatch.setenv("XDG_CACHE_HOME", str(project / "cache"))
    with pytest.raises(KedroAzureMLError, match="Set TMPDIR to a folder outside every Kedro"):
        snapshots_home()


def test_snapshots_of_dead_runners_are_removed(tmp_path: Path) -> None:
    abandoned, alive = tmp_path / "abandoned", tmp_path / "alive"
    # 2**22 + 1 is above the largest pid Linux hands out: that runner is gone.
    for folder, pid in ((abandoned, 2**22 + 1), (alive, os.getpid())):
        folder.mkdir()
        (folder / OWNER_FILE).write_text(str(pid))
    remove_abandoned(tmp_path)
    assert not abandoned.exists()
    assert alive.is_dir()
