"""Mode B with ``run --local --remote-storage``: data between steps through a real Blob container
(Azurite), and no secret leaks. Without the flag the container is a local folder: see
test_temporary_storage_offline.py."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
import yaml
from azure.storage.blob import BlobServiceClient

from kedro_azureml.contract.storage_paths import temp_datastore_name
from kedro_azureml.step.serialization import load_object
from tests.support.kedro_projects import copy_example, kedro, last_run


@pytest.fixture
def mode_b_project(small_project: Path, azurite) -> Path:
    container = f"kedro-temp-{uuid.uuid4().hex[:12]}"
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    service.create_container(container)
    kedro(
        small_project,
        "azureml",
        "init",
        "rg",
        "ws",
        "exp",
        "cpu",
        azurite.account_name,
        container,
        "env@latest",
    )
    return small_project


def _run_id(run_dir: Path) -> str:
    """The run's random id: its data's prefix in the container."""
    return str(json.loads((run_dir / "summary.json").read_text())["run_id"])


def _all_text(root: Path) -> str:
    chunks = []
    for path in root.rglob("*"):
        if path.is_file():
            chunks.append(path.read_bytes().decode("utf-8", errors="replace"))
    return "\n".join(chunks)


def test_mode_b_carries_arrays_and_plain_objects(mode_b_project: Path, azurite) -> None:
    """A numpy array (.npy) and a closure (cloudpickle) cross steps through the container."""
    config = yaml.safe_load((mode_b_project / "conf/base/azureml.yml").read_text())
    container = config["azure"]["temporary_storage"]["container"]
    kedro(
        mode_b_project,
        "azureml",
        "run",
        "--local",
        "--remote-storage",
        "-p",
        "kinds",
        "--no-mlflow",
        *("--group-by", "none"),  # one node per step: array and shift cross steps
        AZURE_STORAGE_CONNECTION_STRING=azurite.connection_string,
    )
    run_dir = last_run(mode_b_project)
    report = load_object(str(run_dir / "outputs" / "kinds_report"))
    assert report == {"array_sum": 135, "shifted": 103, "dtype": "int64"}
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    blobs = {b.name for b in service.get_container_client(container).list_blobs()}
    prefix = f"kedro-azureml-temp/{_run_id(run_dir)}"
    assert {f"{prefix}/array/data.npy", f"{prefix}/shift/data.pkl"} <= blobs


def test_mode_b_moves_data_through_blob_and_leaks_no_key(mode_b_project: Path, azurite) -> None:
    config = yaml.safe_load((mode_b_project / "conf/base/azureml.yml").read_text())
    container = config["azure"]["temporary_storage"]["container"]
    key = azurite.account_key

    compiled = kedro(mode_b_project, "azureml", "compile", "-p", "env")
    pipeline_yaml = (mode_b_project / "pipeline.yaml").read_text()
    datastore = temp_datastore_name(azurite.account_name, container)
    assert datastore.startswith("kedro_azureml_temp_")
    assert (
        f"azureml://datastores/{datastore}/paths/kedro-azureml-temp/${{{{name}}}}/scaled/"
        in pipeline_yaml
    )

    result = kedro(
        mode_b_project,
        "azureml",
        "run",
        "--local",
        "--remote-storage",
        "-p",
        "env",
        AZURE_STORAGE_CONNECTION_STRING=azurite.connection_string,
        AZURE_STORAGE_ACCOUNT_KEY=key,
    )
    run_dir = last_run(mode_b_project)
    assert load_object(str(run_dir / "outputs" / "report")) == {"total": 165, "rows": 10, "max": 30}

    # The intermediates really went through the container, marker last and present.
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    blobs = {b.name for b in service.get_container_client(container).list_blobs()}
    prefix = f"kedro-azureml-temp/{_run_id(run_dir)}"
    assert f"{prefix}/scaled/_kedro_azureml.json" in blobs
    assert f"{prefix}/scaled_csv/scaled.csv" in blobs
    csv = (
        service.get_blob_client(container, f"{prefix}/scaled_csv/scaled.csv")
        .download_blob()
        .readall()
    )
    assert csv.decode().splitlines()[:3] == ["x", "3", "6"]

    # The key is nowhere: compiled YAML, logs, step environment, snapshot, CLI output.
    env_seen = load_object(str(run_dir / "outputs" / "env_seen"))
    assert "AZURE_STORAGE_ACCOUNT_KEY" not in env_seen
    assert "AZURE_STORAGE_CONNECTION_STRING" not in env_seen
    assert key not in json.dumps(env_seen)
    assert key not in pipeline_yaml
    assert key not in _all_text(run_dir)
    assert key not in result.stdout + result.stderr + compiled.stdout + compiled.stderr


def test_mode_b_without_credentials_is_a_clear_error(mode_b_project: Path) -> None:
    result = kedro(mode_b_project, "azureml", "run", "--local", "--remote-storage", check=False)
    assert result.returncode == 1
    assert "AZURE_STORAGE_ACCOUNT_KEY" in result.stderr
    assert "without --remote-storage" in result.stderr
    assert "pipeline_data_passing" in result.stderr


def test_example_project_runs_in_mode_b(tmp_path: Path, azurite) -> None:
    project = copy_example(tmp_path)
    container = f"kedro-temp-{uuid.uuid4().hex[:12]}"
    BlobServiceClient.from_connection_string(azurite.connection_string).create_container(container)
    config_path = project / "conf" / "base" / "azureml.yml"
    config = yaml.safe_load(config_path.read_text())
    config["azure"]["temporary_storage"] = {
        "account_name": azurite.account_name,
        "container": container,
    }
    config["azure"]["pipeline_data_passing"]["enabled"] = False
    config_path.write_text(yaml.safe_dump(config))

    kedro(
        project,
        "azureml",
        "run",
        "--local",
        "--remote-storage",
        AZURE_STORAGE_CONNECTION_STRING=azurite.connection_string,
    )
    run_dir = last_run(project)
    metrics = load_object(
        str(run_dir / "outputs" / "data_science_active_modelling_pipeline_metrics")
    )
    assert 0.5 <= metrics["r2_score"] <= 1.0
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    blobs = {b.name for b in service.get_container_client(container).list_blobs()}
    assert f"kedro-azureml-temp/{_run_id(run_dir)}/model_input_table/_kedro_azureml.json" in blobs


# The same pipeline under a name with a slash: a run folder name once became its remote prefix.
SLASHED_PIPELINE = """

_small_pipelines = register_pipelines


def register_pipelines():
    pipelines = _small_pipelines()
    pipelines["data/proc"] = pipelines["__default__"]
    return pipelines
"""
RUN_SLASHED = ["azureml", "run", "--local", "--remote-storage", "-p", "data/proc", "--no-mlflow"]


def test_two_projects_sharing_a_container_never_read_each_others_data(
    small_project: Path, tmp_path: Path, azurite
) -> None:
    """Two copies of one project, started at once against one container, different params."""
    import shutil
    import subprocess

    from tests.support.kedro_projects import BIN, quiet_env

    container = f"kedro-temp-{uuid.uuid4().hex[:12]}"
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    service.create_container(container)
    registry = small_project / "src" / "demo" / "pipeline_registry.py"
    registry.write_text(registry.read_text() + SLASHED_PIPELINE)
    init = ["azureml", "init", "rg", "ws", "exp", "cpu", azurite.account_name, container, "e:1"]
    kedro(small_project, *init)
    copies = {2: small_project, 3: Path(shutil.copytree(small_project, tmp_path / "copy" / "demo"))}
    env = quiet_env(AZURE_STORAGE_CONNECTION_STRING=azurite.connection_string)
    runs = {
        factor: subprocess.Popen(
            [str(BIN / "kedro"), *RUN_SLASHED, "--params", f"factor={factor}"],
            cwd=project,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for factor, project in copies.items()
    }
    outputs = {factor: run.communicate(timeout=300)[0] for factor, run in runs.items()}
    assert {factor: run.returncode for factor, run in runs.items()} == {2: 0, 3: 0}, outputs

    run_ids = {}
    for factor, project in copies.items():
        run_dir = last_run(project)
        assert run_dir.parent == project / ".kedro-azureml" / "runs"  # no folder from the "/"
        # 1..10 times the factor: each project reports its own numbers.
        report = load_object(str(run_dir / "outputs" / "report"))
        assert report == {"total": 55 * factor, "rows": 10, "max": 10 * factor}
        run_ids[factor] = json.loads((run_dir / "summary.json").read_text())["run_id"]
    assert run_ids[2] != run_ids[3]

    # Each run's data lives under its own random id, and its markers name that run.
    client = service.get_container_client(container)
    prefixes = {blob.name.split("/")[1] for blob in client.list_blobs()}
    assert prefixes == set(run_ids.values())
    for run_id in run_ids.values():
        marker = client.download_blob(f"kedro-azureml-temp/{run_id}/scaled/_kedro_azureml.json")
        assert json.loads(marker.readall())["job_run_id"] == run_id


# A node that deletes the temporary container while its step runs: the node succeeds, and the
# upload of its output, which the next step reads, fails.
VANISHING_PIPELINE = """

_before_vanishing = register_pipelines


def vanish(scaled, container_file):
    from pathlib import Path

    from azure.storage.blob import ContainerClient

    connection_string, container = Path(container_file).read_text().splitlines()
    ContainerClient.from_connection_string(connection_string, container).delete_container()
    return scaled


def register_pipelines():
    pipelines = _before_vanishing()
    pipelines["vanishing"] = pipeline(
        [
            node(scale, ["numbers", "params:factor"], "scaled", name="scale"),
            node(vanish, ["scaled", "params:container_file"], "gone", name="vanish"),
            node(summarise, "gone", "summary", name="summarise"),
        ]
    )
    return pipelines
"""


def test_a_failed_upload_after_the_node_ran_is_labelled_so(
    mode_b_project: Path, azurite, tmp_path: Path
) -> None:
    config = yaml.safe_load((mode_b_project / "conf/base/azureml.yml").read_text())
    container = config["azure"]["temporary_storage"]["container"]
    container_file = tmp_path / "container.txt"
    container_file.write_text(f"{azurite.connection_string}\n{container}\n")
    registry = mode_b_project / "src" / "demo" / "pipeline_registry.py"
    registry.write_text(registry.read_text() + VANISHING_PIPELINE)

    result = kedro(
        mode_b_project,
        *("azureml", "run", "--local", "--remote-storage", "-p", "vanishing"),
        *("--group-by", "none", "--no-mlflow", "--params", f"container_file={container_file}"),
        check=False,
        AZURE_STORAGE_CONNECTION_STRING=azurite.connection_string,
    )
    assert result.returncode == 1
    summary = json.loads((last_run(mode_b_project) / "summary.json").read_text())
    vanish = summary["steps"]["vanish"]
    assert (vanish["status"], vanish["failed_at"], vanish["returncode"]) == ("failed", "upload", 0)
    assert vanish["reason"].startswith(
        f"its node(s) ran and exited 0, but uploading output 'gone' to container '{container}' "
        f"of storage account '{azurite.account_name}' failed: "
    )
    assert summary["steps"]["scale"]["failed_at"] is None
    assert summary["steps"]["summarise"]["status"] == "skipped"

    output = " ".join(result.stdout.split())
    assert "vanish failed (its node(s) ran, the upload failed): the error in its log" in output
    assert "not run" not in output
    # The tail shows the runner's error, not the node's log lines or warnings before it.
    tail = result.stdout.split("the error in its log", 1)[1]
    assert "kedro-azureml: its node(s) ran and exited 0, but uploading output 'gone'" in tail
    assert "Completed node: vanish" not in tail and "INFO" not in tail
    assert (
        "Completed node: vanish" in (last_run(mode_b_project) / "logs" / "vanish.log").read_text()
    )
