"""The local Azure ML stand-in and Azurite against a REAL ``azure.ai.ml.MLClient``.

These pin what the SDK sends and how it reacts, so that the plugin's own tests can rely on the
stand-in. No network beyond 127.0.0.1 is used.
"""

from __future__ import annotations

import base64
import json
import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from azure.ai.ml import MLClient

    from tests.support.aml_standin import AmlStandin
    from tests.support.azurite import AzuriteBlob

warnings.filterwarnings("ignore", message=".*experimental.*")

IMAGE = "python:3.11-slim"


def _jwt_claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def _two_step_pipeline(code_dir: Path, name: str) -> Any:
    from azure.ai.ml import Input, Output, command
    from azure.ai.ml.entities import Environment, PipelineJob

    env = Environment(image=IMAGE)
    prepare = command(
        name="prepare",
        command="python main.py --out ${{outputs.prepared}}",
        code=str(code_dir),
        environment=env,
        compute="cpu-cluster",
        environment_variables={"KEDRO_ENV": "azure", "STEP": "prepare"},
        outputs={"prepared": Output(type="uri_folder")},
    )
    train = command(
        name="train",
        command="python main.py --in ${{inputs.prepared}}",
        code=str(code_dir),
        environment=env,
        compute="gpu-cluster",
        environment_variables={"KEDRO_ENV": "azure", "STEP": "train"},
        inputs={"prepared": Input(type="uri_folder")},
    )
    job = PipelineJob(jobs={"prepare": prepare, "train": train}, compute="cpu-cluster")
    job.jobs["train"].inputs.prepared = job.jobs["prepare"].outputs.prepared
    job.name = name
    return job


def test_create_pipeline_job_uploads_code_and_submits(
    aml_standin: AmlStandin, ml_client: MLClient, azurite: AzuriteBlob, tmp_path: Path
) -> None:
    from azure.storage.blob import BlobServiceClient

    code_dir = tmp_path / "src"
    code_dir.mkdir()
    (code_dir / "main.py").write_text("print('hello from main')\n")
    (code_dir / "util.py").write_text("ANSWER = 42\n")
    aml_standin.add_compute("cpu-cluster")
    aml_standin.add_compute("gpu-cluster", vm_size="STANDARD_NC6S_V3")

    created = ml_client.jobs.create_or_update(
        _two_step_pipeline(code_dir, "standin-pipeline-1"), experiment_name="exp"
    )

    # What the SDK hands back is built from the stand-in's 201 answer.
    assert created.name == "standin-pipeline-1"
    assert created.status == "NotStarted"
    assert created.experiment_name == "exp"
    assert created.studio_url.startswith("https://ml.azure.com/runs/standin-pipeline-1?wsid=")
    assert aml_standin.unmatched == []

    # The exact sequence of calls, with generated names (UUIDs, hashes) normalised.
    def normalise(call: str) -> str:
        call = re.sub(r"/codes/[^/]+", "/codes/{code}", call)
        return re.sub(
            r"/(environments|components)/([^/]+)/versions/[^/]+", r"/\1/\2/versions/{v}", call
        )

    assert [normalise(c) for c in aml_standin.calls()] == [
        "GET {ws}/computes/cpu-cluster",  # the pipeline's default compute
        "GET {ws}/computes/cpu-cluster",  # step "prepare"
        "GET {ws}/computes/gpu-cluster",  # step "train"
        "PUT {ws}/environments/CliV2AnonymousEnvironment/versions/{v}",
        "PUT {ws}/environments/CliV2AnonymousEnvironment/versions/{v}",
        "GET {ws}",
        "GET {ws}/codes/{code}/versions",  # ?hash=...: not there yet
        "POST {ws}/codes/{code}/versions/1/startPendingUpload",
        "PUT {ws}/codes/{code}/versions/1",
        "PUT {ws}/components/azureml_anonymous/versions/{v}",
        "GET {ws}/codes/{code}/versions",  # ?hash=...: found, so no second upload
        "GET {ws}/codes/{code}/versions/1",
        "PUT {ws}/components/azureml_anonymous/versions/{v}",
        "PUT {ws}/jobs/standin-pipeline-1",
    ]
    hash_lookup = aml_standin.find("GET", r"/codes/[^/]+/versions$")[0]
    assert hash_lookup.query["hashVersion"] == "202208"
    assert len(hash_lookup.query["hash"]) == 64
    env_puts = aml_standin.find("PUT", r"^\{ws\}/environments/CliV2AnonymousEnvironment/")
    assert len(env_puts) == 2
    assert {r.body["properties"]["image"] for r in env_puts} == {IMAGE}

    # Every call carried a bearer token; the job PUT also carries the AML-audience token.
    job_put = aml_standin.find("PUT", r"/jobs/standin-pipeline-1$")[0]
    assert all(r.headers["Authorization"].startswith("Bearer ") for r in aml_standin.requests)
    assert _jwt_claims(job_put.headers["x-azureml-token"])["aud"] == "https://ml.local"

    # The job PUT body: camelCase at the job level, snake_case inside the nodes.
    props = job_put.body["properties"]
    assert props["jobType"] == "Pipeline"
    assert props["experimentName"] == "exp"
    assert props["computeId"] == f"{aml_standin.ws_path}/computes/cpu-cluster"
    steps = props["jobs"]
    assert set(steps) == {"prepare", "train"}
    assert steps["prepare"]["computeId"] == f"{aml_standin.ws_path}/computes/cpu-cluster"
    assert steps["train"]["computeId"] == f"{aml_standin.ws_path}/computes/gpu-cluster"
    assert steps["prepare"]["environment_variables"] == {"KEDRO_ENV": "azure", "STEP": "prepare"}
    assert steps["train"]["environment_variables"] == {"KEDRO_ENV": "azure", "STEP": "train"}
    assert steps["prepare"]["outputs"] == {"prepared": {"job_output_type": "uri_folder"}}
    assert steps["train"]["inputs"]["prepared"] == {
        "job_input_type": "literal",
        "value": "${{parent.jobs.prepare.outputs.prepared}}",
    }

    # Commands live in the anonymous components the nodes point at.
    components = {
        r.path: r.body["properties"]["componentSpec"]
        for r in aml_standin.find("PUT", r"/components/")
    }
    spec = {step: components[steps[step]["componentId"]] for step in steps}
    assert spec["prepare"]["command"] == "python main.py --out ${{outputs.prepared}}"
    assert spec["train"]["command"] == "python main.py --in ${{inputs.prepared}}"
    assert spec["prepare"]["code"] == spec["train"]["code"]
    assert spec["prepare"]["environment"].startswith(
        f"azureml:{aml_standin.ws_path}/environments/CliV2AnonymousEnvironment/versions/"
    )

    # The code went to Azurite through the SAS URL the stand-in handed out.
    (upload,) = aml_standin.pending_uploads
    code_put = aml_standin.find("PUT", r"^\{ws\}/codes/")[0]
    assert code_put.body["properties"]["codeUri"] == f"{upload.blob_uri}/src"
    assert code_put.body["properties"]["isAnonymous"] is True
    assert spec["prepare"]["code"] == f"azureml:{code_put.path}"
    container = BlobServiceClient.from_connection_string(
        azurite.connection_string
    ).get_container_client(upload.container)
    assert sorted(b.name for b in container.list_blobs()) == ["src/main.py", "src/util.py"]
    assert container.download_blob("src/util.py").readall() == b"ANSWER = 42\n"


def test_stream_completed_job_prints_logs(
    aml_standin: AmlStandin,
    ml_client: MLClient,
    fast_stream_polling: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    aml_standin.script_job(
        "streamed-ok",
        ["Running", "Running", "Completed"],
        logs={"logs/azureml/executionlogs.txt": "[step prepare] started\n[step prepare] done\n"},
    )

    assert ml_client.jobs.stream("streamed-ok") is None

    out = capsys.readouterr().out
    assert "RunId: streamed-ok" in out
    assert "Streaming logs/azureml/executionlogs.txt" in out
    assert "[step prepare] started\n[step prepare] done\n" in out
    assert "Execution Summary" in out
    assert aml_standin.calls() == [
        "GET {ws}/jobs/streamed-ok",
        "GET {ws}",
        "GET /discovery",
        "GET /history/v1.0{ws}/runs/streamed-ok/details",
        "GET /history/v1.0{ws}/runs/streamed-ok/details",
        "GET /standin-logs/streamed-ok/logs/azureml/executionlogs.txt",
    ]


def test_stream_failed_job_raises_job_exception(
    aml_standin: AmlStandin, ml_client: MLClient, capsys: pytest.CaptureFixture[str]
) -> None:
    from azure.ai.ml.exceptions import JobException

    aml_standin.script_job("streamed-bad", ["Failed"], error="step train exited with code 1")

    with pytest.raises(JobException) as info:
        ml_client.jobs.stream("streamed-bad")

    assert "step train exited with code 1" in info.value.message
    assert "Execution Summary" in capsys.readouterr().out
    assert aml_standin.calls()[-1] == "GET /history/v1.0{ws}/runs/streamed-bad/details"


def test_job_status_sequence_and_cancel(aml_standin: AmlStandin, ml_client: MLClient) -> None:
    aml_standin.script_job("polled", ["Queued", "Running", "Completed"])
    assert [ml_client.jobs.get("polled").status for _ in range(4)] == [
        "Queued",
        "Running",
        "Completed",
        "Completed",
    ]

    aml_standin.script_job("to-cancel", ["Running"])
    ml_client.jobs.begin_cancel("to-cancel").result()
    assert aml_standin.find("POST", r"/jobs/to-cancel/cancel$")[0].status == 202
    assert ml_client.jobs.get("to-cancel").status == "CancelRequested"
    assert ml_client.jobs.get("to-cancel").status == "Canceled"


def test_compute_get_existing_and_missing(aml_standin: AmlStandin, ml_client: MLClient) -> None:
    from azure.core.exceptions import ResourceNotFoundError

    aml_standin.add_compute("cpu-cluster", vm_size="STANDARD_D2_V3", max_nodes=3)

    compute = ml_client.compute.get("cpu-cluster")
    assert (compute.name, compute.type, compute.size, compute.max_instances) == (
        "cpu-cluster",
        "amlcompute",
        "STANDARD_D2_V3",
        3,
    )
    with pytest.raises(ResourceNotFoundError, match="Compute no-such-cluster not found"):
        ml_client.compute.get("no-such-cluster")
    assert [r.status for r in aml_standin.find("GET", r"/computes/")] == [200, 404]


def test_environment_get_by_label_and_version(aml_standin: AmlStandin, ml_client: MLClient) -> None:
    from azure.ai.ml.exceptions import ValidationException
    from azure.core.exceptions import ResourceNotFoundError

    aml_standin.add_environment("kedro-env", "1", image="acr.local/kedro:1")
    aml_standin.add_environment("kedro-env", "2", image="acr.local/kedro:2")

    latest = ml_client.environments.get("kedro-env", label="latest")
    assert (latest.name, latest.version, latest.image) == ("kedro-env", "2", "acr.local/kedro:2")
    assert ml_client.environments.get("kedro-env", version="1").image == "acr.local/kedro:1"
    with pytest.raises(ResourceNotFoundError):
        ml_client.environments.get("kedro-env", version="7")
    # "latest" of an unknown name: the list is empty and the SDK raises its own error.
    with pytest.raises(ValidationException, match="Asset other-env does not exist"):
        ml_client.environments.get("other-env", label="latest")

    latest_call = aml_standin.find("GET", r"/environments/kedro-env/versions$")[0]
    assert (latest_call.query["$orderBy"], latest_call.query["$top"]) == ("createdtime desc", "1")


def test_unknown_routes_are_recorded(aml_standin: AmlStandin, ml_client: MLClient) -> None:
    from azure.core.exceptions import ResourceNotFoundError

    with pytest.raises(ResourceNotFoundError, match="no route"):
        ml_client.models.get("some-model", version="1")

    (miss,) = aml_standin.unmatched
    assert (miss.method, miss.rel, miss.status) == ("GET", "{ws}/models/some-model/versions/1", 404)


def test_pipeline_child_runs(aml_standin: AmlStandin, ml_client: MLClient) -> None:
    aml_standin.script_job(
        "parent", ["Running"], children={"prepare": "Completed", "train": "Running"}
    )

    children = list(ml_client.jobs.list(parent_job_name="parent"))

    assert [(c.display_name, c.status) for c in children] == [
        ("prepare", "Completed"),
        ("train", "Running"),
    ]
    assert children[0].name == aml_standin.child_run_id("parent", "prepare")
    assert aml_standin.calls()[-1] == "GET /history/v1.0{ws}/runs/parent/children"


def test_data_asset_put_and_get(aml_standin: AmlStandin, ml_client: MLClient) -> None:
    from azure.ai.ml.entities import Data
    from azure.core.exceptions import ResourceNotFoundError

    uri = "azureml://datastores/workspaceblobstore/paths/kedro/companies/"
    ml_client.data.create_or_update(
        Data(name="companies", version="1", path=uri, type="uri_folder")
    )

    put = aml_standin.find("PUT", r"^\{ws\}/data/companies/versions/1$")[0]
    assert put.body["properties"]["dataUri"] == uri
    assert put.body["properties"]["dataType"] == "uri_folder"
    latest = ml_client.data.get("companies", label="latest")  # via the container's latestVersion
    assert (latest.version, latest.path, latest.type) == ("1", uri, "uri_folder")
    with pytest.raises(ResourceNotFoundError):
        ml_client.data.get("companies", version="2")
