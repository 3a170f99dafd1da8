"""MLflow in ``run --local`` steps: the parent run and child runs Azure ML would create."""

from __future__ import annotations

import json
from pathlib import Path

from mlflow.tracking import MlflowClient

from kedro_azureml.step.serialization import load_object
from tests.support.kedro_projects import kedro, last_run

INIT = ["azureml", "init", "rg", "ws", "exp", "cpu-cluster", "kedro-env@latest"]


def _summary(project: Path) -> dict:
    return json.loads((last_run(project) / "summary.json").read_text())


def test_each_step_logs_into_its_child_run_of_the_job_run(small_project: Path) -> None:
    kedro(small_project, *INIT)
    kedro(small_project, "azureml", "run", "--local")
    tracking = _summary(small_project)["mlflow"]
    assert tracking["tracking_uri"].startswith("sqlite:///")
    assert (small_project / ".kedro-azureml" / "mlflow.db").is_file()
    client = MlflowClient(tracking["tracking_uri"])
    parent = client.get_run(tracking["run_id"])
    assert parent.info.status == "FINISHED"
    assert parent.data.tags["kedro_pipeline"] == "__default__"
    assert client.get_experiment(parent.info.experiment_id).name == "exp"
    assert set(tracking["step_runs"]) == {"scale", "summarise", "to_csv", "report"}
    for step, run_id in tracking["step_runs"].items():
        child = client.get_run(run_id)
        assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
        assert child.data.tags["kedro_azureml.step"] == step
        assert child.info.status == "FINISHED"
    report = load_object(str(last_run(small_project) / "outputs" / "report"))
    logged = client.get_run(tracking["step_runs"]["report"]).data.metrics
    assert logged == {"total": report["total"]}
    assert client.get_run(tracking["step_runs"]["scale"]).data.metrics == {}


def test_a_failed_step_fails_its_run_and_the_job_run(small_project: Path) -> None:
    kedro(small_project, *INIT)
    # One node per step: after_explode is a step of its own, skipped after explode fails.
    result = kedro(
        small_project,
        "azureml",
        "run",
        "--local",
        "-p",
        "failing",
        "--group-by",
        "none",
        check=False,
    )
    assert result.returncode == 1
    tracking = _summary(small_project)["mlflow"]
    client = MlflowClient(tracking["tracking_uri"])
    assert client.get_run(tracking["step_runs"]["explode"]).info.status == "FAILED"
    assert "after_explode" not in tracking["step_runs"]  # skipped: never started
    assert client.get_run(tracking["run_id"]).info.status == "FAILED"


def test_steps_get_the_users_store_or_none_with_no_mlflow(
    small_project: Path, tmp_path: Path
) -> None:
    kedro(small_project, *INIT)
    store = f"sqlite:///{tmp_path / 'team.db'}"
    # One node per step: dump_env's step run is the one named after it.
    local_run = ["azureml", "run", "--local", "-p", "env", "--group-by", "none"]
    kedro(small_project, *local_run, MLFLOW_TRACKING_URI=store)
    tracking = _summary(small_project)["mlflow"]
    assert tracking["tracking_uri"] == store
    env = load_object(str(last_run(small_project) / "outputs" / "env_seen"))
    assert env["MLFLOW_TRACKING_URI"] == store
    assert env["MLFLOW_RUN_ID"] == tracking["step_runs"]["dump_env"]
    assert env["MLFLOW_EXPERIMENT_ID"] == tracking["experiment_id"]
    assert not (small_project / ".kedro-azureml" / "mlflow.db").exists()

    kedro(small_project, *local_run, "--no-mlflow")
    assert _summary(small_project)["mlflow"] is None
    env = load_object(str(last_run(small_project) / "outputs" / "env_seen"))
    assert "MLFLOW_RUN_ID" not in env
