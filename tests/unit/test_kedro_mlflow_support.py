"""kedro-mlflow support that runs without kedro-mlflow: routing, requirement checks, docker-init,
the parameter redirect and the run reference's errors (the end-to-end tests are in
tests/integration/test_kedro_mlflow.py, in kedro-mlflow's own venv)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from kedro.io import DatasetError
from kedro.pipeline import node, pipeline

from kedro_azureml.compiler.compile import plan_pipeline
from kedro_azureml.compiler.render import CompileOptions
from kedro_azureml.config import parse_config
from kedro_azureml.contract.routing import Route, route_dataset
from kedro_azureml.errors import StepDataError
from kedro_azureml.project.dockerfiles import render_docker_files, tracking_packages_for_image
from kedro_azureml.project.requirements import (
    declared_requirements,
    tracking_requirements_warning,
)
from kedro_azureml.step.kedro_mlflow import StepRun
from kedro_azureml.step.mlflow_reference import MlflowRunReferenceDataset

ARTIFACT = {
    "type": "kedro_mlflow.io.artifacts.MlflowArtifactDataset",
    "dataset": {"type": "pandas.CSVDataset", "filepath": "data/02_intermediate/t.csv"},
}
MODEL = {"type": "kedro_mlflow.io.models.MlflowModelTrackingDataset", "flavor": "mlflow.sklearn"}
METRIC = {"type": "kedro_mlflow.io.metrics.MlflowMetricDataset"}


@pytest.mark.parametrize(
    "config",
    [ARTIFACT, MODEL, METRIC, {"type": "kedro_mlflow.io.metrics.MlflowMetricsHistoryDataset"}],
    ids=["artifact", "model", "metric", "metrics-history"],
)
def test_kedro_mlflow_run_datasets_travel_as_a_run_reference(config: dict) -> None:
    route = route_dataset("x", config)
    assert route.route is Route.MLFLOW_RUN
    assert not route.can_travel  # no job output for it, only a reference between steps


def test_a_local_file_model_of_kedro_mlflow_travels_as_a_file() -> None:
    config = {
        "type": "kedro_mlflow.io.models.MlflowModelLocalFileSystemDataset",
        "flavor": "mlflow.sklearn",
        "filepath": "data/06_models/model",
    }
    assert route_dataset("x", config).route is Route.LOCAL_FILE


def test_explain_says_where_kedro_mlflow_data_lives() -> None:
    def f(*args: object) -> object:
        return args[0]

    configs = {"model": MODEL, "score": METRIC}
    pipe = pipeline(
        [
            node(f, "params:a", "model", name="train"),
            node(f, "model", "score", name="evaluate"),
        ]
    )
    config = parse_config(
        {
            "azure": {
                "resource_group": "rg",
                "workspace_name": "ws",
                "experiment_name": "e",
                "compute": {"__default__": {"cluster_name": "cpu"}},
                "environment_name": "env@latest",
            }
        }
    )
    # One node per step: the model crosses from train's step to evaluate's.
    plan = plan_pipeline(pipe, config, CompileOptions(), configs.get, grouping="none")
    assert plan.datasets["model"].decision == (
        "logged to the producing step's MLflow run; that run's id travels to the readers"
    )
    assert plan.datasets["score"].decision == "pipeline output: logged to its step's MLflow run"
    evaluate = next(step for step in plan.steps if step.name == "evaluate")
    assert list(evaluate.inputs) == ["model"]
    assert plan.job_outputs == {}


def _project(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_requirements_are_read_through_includes_extras_and_pyproject(tmp_path: Path) -> None:
    project = _project(
        tmp_path,
        {
            "requirements.txt": "kedro~=1.7\n-r extra/more.txt\n# azureml-mlflow\n",
            "extra/more.txt": "Kedro_MLflow==2.0.3  # tracking\n--index-url https://x\n",
            "pyproject.toml": '[project]\nname="p"\noptional-dependencies={a=["kedro-azureml-next[mlflow]"]}\n',
        },
    )
    declared = declared_requirements(project)
    assert declared.files == ["requirements.txt", "extra/more.txt", "pyproject.toml"]
    assert declared.names("kedro-mlflow")
    assert declared.names("azureml-mlflow")  # through kedro-azureml-next[mlflow]
    assert not declared.names("index-url")
    assert not declared_requirements(project, ["requirements.txt"]).names("azureml_mlflow")


@pytest.mark.parametrize(
    ("files", "missing"),
    [
        ({"conf/base/mlflow.yml": "server: {}\n"}, "kedro-mlflow or azureml-mlflow"),
        (
            {"conf/base/mlflow.yml": "", "requirements.txt": "kedro-mlflow==2.0.*\n"},
            "azureml-mlflow",
        ),
        (
            {"conf/base/catalog.yml": "m:\n  type: kedro_mlflow.io.metrics.MlflowMetricDataset\n"},
            "kedro-mlflow or azureml-mlflow",
        ),
        ({"requirements.txt": "kedro-mlflow\n"}, "azureml-mlflow"),
    ],
    ids=["mlflow-yml", "kedro-mlflow-required", "catalog", "requirements-only"],
)
def test_submit_warns_when_kedro_mlflow_would_lack_its_packages_on_azure(
    tmp_path: Path, files: dict[str, str], missing: str
) -> None:
    project = _project(tmp_path, {"conf/base/parameters.yml": "a: 1\n", **files})
    warning = tracking_requirements_warning(project, [project / "conf" / "base"])
    assert warning is not None
    assert f"do not name {missing}." in warning
    assert "azureml://" in warning


@pytest.mark.parametrize(
    "files",
    [
        {"conf/base/parameters.yml": "a: 1\n"},
        {"conf/base/mlflow.yml": "", "requirements.txt": "kedro-mlflow\nazureml-mlflow>=1.60\n"},
        {"conf/other/mlflow.yml": ""},  # not an env this run uses
    ],
    ids=["no-kedro-mlflow", "all-there", "other-env"],
)
def test_no_warning_without_kedro_mlflow_or_with_everything(
    tmp_path: Path, files: dict[str, str]
) -> None:
    project = _project(tmp_path, files)
    assert tracking_requirements_warning(project, [project / "conf" / "base"]) is None


def test_docker_init_installs_azureml_mlflow_with_the_requirements_when_missing(
    tmp_path: Path,
) -> None:
    project = _project(tmp_path, {"requirements.txt": "mlflow-skinny\n", "conf/base/a.yml": ""})
    extra = tracking_packages_for_image(project, "requirements.txt")
    assert extra == ("azureml-mlflow",)
    dockerfile = render_docker_files(
        "code-upload", requirements="requirements.txt", extra_packages=extra
    )["Dockerfile"]
    assert (
        "RUN pip install --no-cache-dir -r /tmp/requirements.txt azureml-mlflow && rm -f "
        "/tmp/requirements.txt"
    ) in dockerfile
    assert "which requirements.txt does not name" in dockerfile
    (project / "requirements.txt").write_text("mlflow-skinny\nazureml-mlflow\n")
    assert tracking_packages_for_image(project, "requirements.txt") == ()
    (project / "requirements.txt").write_text("pandas\n")
    assert tracking_packages_for_image(project, "requirements.txt") == ()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory):
    """One SQLite store for the module: creating its tables takes seconds."""
    from mlflow.tracking import MlflowClient

    folder = tmp_path_factory.mktemp("mlflow")
    client = MlflowClient(f"sqlite:///{folder / 'mlflow.db'}")
    return client, client.create_experiment("e", artifact_location=(folder / "a").as_uri())


@pytest.fixture
def job_run(store):
    client, experiment = store
    return client, client.create_run(experiment).info.run_id


@pytest.mark.parametrize(
    ("strategy", "expected_params", "expected_tag"),
    [("truncate", {"long": "x" * 6000}, None), ("tag", {}, "x" * 7000)],
)
def test_long_parameters_follow_mlflow_yml_on_the_job_run(
    job_run, strategy: str, expected_params: dict, expected_tag: str | None
) -> None:
    client, parent = job_run
    context = SimpleNamespace(
        mlflow=SimpleNamespace(
            tracking=SimpleNamespace(params=SimpleNamespace(long_params_strategy=strategy))
        )
    )
    step = StepRun(run_id="step", plugins=[], context=context, client=client, job_run_id=parent)
    step.log_param("short", 1)
    step.log_param("short", 1)  # a second step logging the same parameter is fine
    step.log_param("long", "x" * 7000)
    run = client.get_run(parent)
    assert run.data.params == {"short": "1", **expected_params}
    assert run.data.tags.get("long") == expected_tag


def test_a_long_parameter_fails_by_default_saying_what_to_set(job_run) -> None:
    client, parent = job_run
    step = StepRun(run_id="s", plugins=[], context=None, client=client, job_run_id=parent)
    with pytest.raises(ValueError, match="long_params_strategy to 'tag' or 'truncate'"):
        step.log_param("long", "x" * 7000)


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        (None, "has no MLflow run reference"),
        ({"format": "object"}, "found format 'object'"),
    ],
    ids=["missing", "not-a-reference"],
)
def test_a_reader_without_a_run_reference_says_what_happened(
    tmp_path: Path, marker: dict | None, message: str
) -> None:
    if marker is not None:
        (tmp_path / "_kedro_azureml.json").write_text(json.dumps(marker))
    dataset = MlflowRunReferenceDataset(
        name="model",
        folder=str(tmp_path),
        dataset=None,
        config=MODEL,  # type: ignore[arg-type]
    )
    with pytest.raises(DatasetError, match=message) as raised:  # Kedro wraps load errors
        dataset.load()
    assert isinstance(raised.value.__cause__, StepDataError)
    assert "Dataset 'model'" in str(raised.value)
