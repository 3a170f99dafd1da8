"""kedro-mlflow in `run --local` steps: one tracking story for the whole job.

Every test drives `kedro` from the kedro-mlflow venv (tests/support/kedro_mlflow_venv.py) in
subprocesses, and reads the MLflow store back with that venv's MLflow.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from kedro_azureml.step.serialization import load_object
from tests.support.kedro_mlflow_venv import kedro_with_mlflow, needs_kedro_mlflow_venv, store_tree
from tests.support.kedro_projects import REPO, copy_example, last_run, set_grouping
from tests.support.seam import write_seam

if TYPE_CHECKING:
    from tests.support.aml_standin import AmlStandin
    from tests.support.azurite import AzuriteBlob

pytestmark = [pytest.mark.slow, needs_kedro_mlflow_venv]

# The example's tests share one run: keep them on one xdist worker (make test: --dist loadgroup).
one_example_run = pytest.mark.xdist_group("kedro_mlflow_example")
NAMESPACE = "data_science.active_modelling_pipeline"
REGRESSOR = f"{NAMESPACE}.regressor"


def _summary(project: Path) -> dict:
    return json.loads((last_run(project) / "summary.json").read_text())


def _marker(folder: Path) -> dict:
    return json.loads((folder / "_kedro_azureml.json").read_text())


@pytest.fixture(scope="module")
def example_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, dict]:
    """The example with kedro-mlflow, run locally with one step per node."""
    project = copy_example(tmp_path_factory.mktemp("kedro-mlflow-example"))
    kedro_with_mlflow(
        project, "azureml", "run", "--local", "-e", "kedro_mlflow", "--group-by", "none"
    )
    summary = _summary(project)
    return project, summary, store_tree(summary["mlflow"]["tracking_uri"])


@one_example_run
def test_the_job_is_one_parent_run_with_a_child_run_per_step(example_run) -> None:
    project, summary, tree = example_run
    tracking = summary["mlflow"]
    assert summary["succeeded"]
    store = f"sqlite:///{project / '.kedro-azureml' / 'mlflow.db'}"
    assert tracking["tracking_uri"].split("?")[0] == store  # ?timeout=: parallel steps wait
    runs = tree["runs"]
    parents = [run_id for run_id, run in runs.items() if "mlflow.parentRunId" not in run["tags"]]
    assert parents == [tracking["run_id"]]
    # The job's experiment (azureml.yml), not mlflow.yml's "spaceflights-kedro-run".
    assert {run["experiment"] for run in runs.values()} == {"spaceflights"}
    children = {run_id for run_id, run in runs.items() if run_id != tracking["run_id"]}
    assert children == set(tracking["step_runs"].values())
    assert len(children) == 6
    for step, run_id in tracking["step_runs"].items():
        run = runs[run_id]
        assert run["tags"]["mlflow.parentRunId"] == tracking["run_id"]
        assert run["status"] == "FINISHED"
        # Tagged with its Kedro node, which names its step.
        assert run["tags"]["kedro_azureml.nodes"].replace(".", "_") == step
    assert runs[tracking["run_id"]]["status"] == "FINISHED"


@one_example_run
def test_parameters_are_logged_once_on_the_job_run_with_mlflow_yml_settings(example_run) -> None:
    _, summary, tree = example_run
    tracking = summary["mlflow"]
    parent = tree["runs"][tracking["run_id"]]
    # mlflow.yml's flatten: true still applies: one parameter per key of model_options.
    assert parent["params"][f"{NAMESPACE}.model_options.test_size"] == "0.2"
    assert parent["params"][f"{NAMESPACE}.model_options.random_state"] == "3"
    assert "passenger_capacity" in parent["params"][f"{NAMESPACE}.model_options.features"]
    for run_id in tracking["step_runs"].values():
        assert tree["runs"][run_id]["params"] == {}


@one_example_run
def test_the_model_is_logged_by_training_and_loaded_by_evaluation_from_that_run(
    example_run,
) -> None:
    project, summary, tree = example_run
    step_runs = summary["mlflow"]["step_runs"]
    train = step_runs[f"{NAMESPACE}.train_model_node".replace(".", "_")]
    evaluate = step_runs[f"{NAMESPACE}.evaluate_model_node".replace(".", "_")]
    (model,) = tree["models"]
    assert model["name"] == "regressor"
    assert model["source_run_id"] == train
    # The training step's output folder carries the run and the model, not the model itself.
    folders = list((last_run(project) / "data").glob("*train_model_node/*regressor"))
    (folder,) = folders
    reference = _marker(folder)
    assert reference["format"] == "mlflow-run"
    assert reference["run_id"] == train
    assert reference["model_uri"] == f"models:/{model['model_id']}"
    assert [p.name for p in folder.iterdir()] == ["_kedro_azureml.json"]
    tags = tree["runs"][evaluate]["tags"]
    assert tags[f"kedro_azureml.loaded_from.{REGRESSOR}"] == train


@one_example_run
def test_metrics_land_in_the_evaluation_steps_run_and_nothing_in_mlflow_yml_store(
    example_run,
) -> None:
    project, summary, tree = example_run
    tracking = summary["mlflow"]
    evaluate = tracking["step_runs"][f"{NAMESPACE}.evaluate_model_node".replace(".", "_")]
    expected = load_object(summary["job_outputs"][f"{NAMESPACE}.metrics".replace(".", "_")])
    assert tree["runs"][evaluate]["metrics"] == pytest.approx(expected)
    for run_id, run in tree["runs"].items():
        if run_id != evaluate:
            assert run["metrics"] == {}, run["name"]
    assert not (project / "mlruns").exists()  # where mlflow.yml points


FANS = 8
FAN_PIPELINE = """
import os

import mlflow
from kedro.pipeline import Pipeline, node, pipeline

FANS = 8


def make_fan(i):
    def fan(numbers, factor):
        table = numbers.assign(x=numbers["x"] * factor + i)
        return float(table["x"].sum()), table

    return fan


def collect(*values):
    metrics, tables = values[:FANS], values[FANS:]
    return {
        "metrics": list(metrics),
        "tables": [int(table["x"].sum()) for table in tables],
        "password_seen": os.environ.get("MLFLOW_TRACKING_PASSWORD"),
        "tracking_uri": os.environ.get("MLFLOW_TRACKING_URI"),
    }


def score(summary):
    return float(sum(summary["metrics"]))


def report(score, summary):
    return {"score": score, "summary": summary, "active_run": mlflow.active_run().info.run_id}


def register_pipelines() -> dict[str, Pipeline]:
    fans = [
        node(make_fan(i), ["numbers", "params:factor"], [f"metric_{i}", f"table_{i}"],
             name=f"fan_{i}")
        for i in range(FANS)
    ]
    inputs = [f"metric_{i}" for i in range(FANS)] + [f"table_{i}" for i in range(FANS)]
    return {
        "__default__": pipeline(
            [
                *fans,
                node(collect, inputs, "summary", name="collect"),
                node(score, "summary", "score", name="score_node"),
                node(report, ["score", "summary"], "report", name="report_node"),
            ]
        )
    }
"""

FAN_CATALOG = """
numbers:
  type: pandas.CSVDataset
  filepath: data/01_raw/numbers.csv
"metric_{i}":
  type: kedro_mlflow.io.metrics.MlflowMetricDataset
  key: "metric_{i}"
"table_{i}":
  type: kedro_mlflow.io.artifacts.MlflowArtifactDataset
  dataset:
    type: pandas.CSVDataset
    filepath: data/02_intermediate/table_{i}.csv
score:  # no key: kedro-mlflow names the metric after the dataset
  type: kedro_mlflow.io.metrics.MlflowMetricDataset
"""

FAN_MLFLOW_YML = """
server:
  mlflow_tracking_uri: sqlite:///mlruns/mlflow.db
  credentials: mlflow_credentials
tracking:
  experiment:
    name: fans-kedro-run
"""


@pytest.fixture
def fan_project(blank_project: Path) -> Path:
    """8 independent steps writing kedro-mlflow metrics and artifacts, read by later steps."""
    (blank_project / "src" / "demo" / "pipeline_registry.py").write_text(FAN_PIPELINE)
    conf = blank_project / "conf"
    (conf / "base" / "parameters.yml").write_text("factor: 3\n")
    (conf / "base" / "catalog.yml").write_text(FAN_CATALOG)
    (conf / "base" / "mlflow.yml").write_text(FAN_MLFLOW_YML)
    (conf / "local" / "credentials.yml").write_text(
        "mlflow_credentials:\n  MLFLOW_TRACKING_PASSWORD: hunter2\n"
    )
    raw = blank_project / "data" / "01_raw"
    raw.mkdir(parents=True, exist_ok=True)
    (raw / "numbers.csv").write_text("x\n" + "\n".join(str(i) for i in range(1, 11)) + "\n")
    kedro_with_mlflow(blank_project, *INIT)
    set_grouping(blank_project, "none")  # collect, score_node, report_node: a run each
    return blank_project


INIT = ["azureml", "init", "rg", "ws", "fans", "cpu-cluster", "kedro-env@latest"]


def test_eight_parallel_steps_share_the_sqlite_store_and_datasets_cross_by_run(
    fan_project: Path,
) -> None:
    result = kedro_with_mlflow(fan_project, "azureml", "run", "--local", "--max-workers", "8")
    summary = _summary(fan_project)
    logs = "".join(p.read_text() for p in (last_run(fan_project) / "logs").iterdir())
    assert "database is locked" not in logs + result.stdout
    assert summary["succeeded"], result.stdout
    tracking = summary["mlflow"]
    tree = store_tree(tracking["tracking_uri"])
    runs, steps = tree["runs"], tracking["step_runs"]
    assert {run["experiment"] for run in runs.values()} == {"fans"}
    # One parameter on the job's run, written by 8 steps at once; none on the steps' runs.
    assert runs[tracking["run_id"]]["params"] == {"factor": "3"}
    assert all(runs[run_id]["params"] == {} for run_id in steps.values())
    expected_tables = []
    for i in range(FANS):
        fan = runs[steps[f"fan_{i}"]]
        assert fan["metrics"] == {f"metric_{i}": 165.0 + 10 * i}
        assert fan["artifacts"] == [f"table_{i}.csv"]
        expected_tables.append(165 + 10 * i)
        # The collecting step read each input from the run of the step that logged it.
        assert (
            runs[steps["collect"]]["tags"][f"kedro_azureml.loaded_from.metric_{i}"]
            == steps[f"fan_{i}"]
        )
        assert (
            runs[steps["collect"]]["tags"][f"kedro_azureml.loaded_from.table_{i}"]
            == steps[f"fan_{i}"]
        )
    report = load_object(summary["job_outputs"]["report"])
    collected = report["summary"]
    assert collected["metrics"] == [float(t) for t in expected_tables]
    assert collected["tables"] == expected_tables
    # kedro-mlflow's own naming of a metric without a key survives the step binding, and the
    # metric lands in the run of the step whose node made it.
    assert runs[steps["score_node"]]["metrics"] == {"score": float(sum(expected_tables))}
    assert report["score"] == float(sum(expected_tables))
    assert report["active_run"] == steps["report_node"]
    # The CLI never ran kedro-mlflow's set-up: no credentials exported to the steps, no
    # tracking URI of mlflow.yml, nothing written where mlflow.yml points.
    assert collected["password_seen"] is None
    assert collected["tracking_uri"] == tracking["tracking_uri"]
    assert not (fan_project / "mlruns").exists()


TRACKING_SECRETS = {
    "MLFLOW_TRACKING_TOKEN": "token-secret-1",
    "MLFLOW_TRACKING_PASSWORD": "password-secret-2",
    "MLFLOW_TRACKING_URI": "https://user:uri-secret-3@mlflow.example.com",
}


def test_submit_sends_no_tracking_secret_and_warns_when_azureml_mlflow_is_missing(
    tmp_path: Path, aml_standin: AmlStandin, azurite: AzuriteBlob
) -> None:
    project = copy_example(tmp_path)
    config = project / "conf" / "base" / "azureml.yml"
    config.write_text(
        config.read_text()
        .replace('"example-rg"', f'"{aml_standin.resource_group}"')
        .replace('"example-ws"', f'"{aml_standin.workspace_name}"')
    )
    # The user forgot azureml-mlflow: kedro-mlflow is required, Azure ML's store plugin is not.
    (project / "requirements-kedro-mlflow.txt").write_text("-r requirements.txt\nkedro-mlflow\n")
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace(', "azureml-mlflow"', ""))
    (project / "conf" / "local" / "credentials.yml").write_text(
        "mlflow_credentials:\n  MLFLOW_TRACKING_PASSWORD: password-secret-4\n"
    )
    mlflow_yml = project / "conf" / "base" / "mlflow.yml"
    mlflow_yml.write_text(
        mlflow_yml.read_text().replace("server:\n", "server:\n  credentials: mlflow_credentials\n")
    )
    aml_standin.add_compute("cpu-cluster")
    aml_standin.add_compute("cpu-cluster-8", vm_size="STANDARD_D8_V3")
    aml_standin.add_environment("kedro-spaceflights", "1", image="acr.local/sf:1")
    seam = write_seam(tmp_path / "standin.json", aml_standin)

    result = kedro_with_mlflow(
        project,
        "azureml",
        "run",
        "-e",
        "kedro_mlflow",
        PYTHONPATH=str(REPO),
        AZURE_SUBSCRIPTION_ID=aml_standin.subscription_id,
        **seam,
        **TRACKING_SECRETS,
    )

    output = " ".join(result.stdout.split())
    assert (
        "Warning: This project tracks with kedro-mlflow (its requirements name kedro-mlflow), but its "
        "requirements (requirements-distributed.txt, requirements.txt, "
        "requirements-kedro-mlflow.txt, pyproject.toml) do not name azureml-mlflow." in output
    )
    assert "Job " in output and " created in experiment spaceflights" in output
    (put,) = aml_standin.find("PUT", r"^\{ws\}/jobs/[^/]+$")
    for step in put.body["properties"]["jobs"].values():
        assert not [name for name in step.get("environment_variables") or {} if "MLFLOW" in name]
    sent = json.dumps([request.body for request in aml_standin.requests], default=str)
    for secret in (*TRACKING_SECRETS.values(), "password-secret-4", "uri-secret-3"):
        assert secret not in sent
    assert not (project / "mlruns").exists()
