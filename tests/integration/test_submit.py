"""`kedro azureml run` submits to Azure ML: the example project, through a subprocess, against
the local REST stand-in (tests/support/aml_standin.py) and Azurite.

The CLI reaches the stand-in through the test-only seam of ``kedro_azureml.cloud.client``
(``KEDRO_AZUREML_TEST_ENDPOINT`` + ``KEDRO_AZUREML_ALLOW_TEST_ENDPOINT=1``); the assertions are
on the requests the real ``azure-ai-ml`` SDK sent, and on the blobs that landed in Azurite.
"""

from __future__ import annotations

import base64
import json
import os
import pty
import re
import select
import signal
import subprocess
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import pytest
import yaml

from kedro_azureml.contract.storage_paths import temp_datastore_name
from kedro_azureml.project.snapshot import scan_code_directory
from tests.support.kedro_projects import BIN, REPO, copy_example, kedro, quiet_env, set_grouping
from tests.support.seam import write_seam

if TYPE_CHECKING:
    from tests.support.aml_standin import AmlStandin, RecordedRequest
    from tests.support.azurite import AzuriteBlob

ENVIRONMENT = "kedro-spaceflights"
CHUNKY_NODES = {"preprocess_companies_node", "create_model_input_table_node"}
OTHER_SUBSCRIPTION = "11111111-2222-3333-4444-555555555555"


class RefusingCredential:
    """A credential with no login behind it, as DefaultAzureCredential is without `az login`."""

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.exceptions import ClientAuthenticationError

        if os.environ.get("TOKEN_ATTEMPTS"):  # counted: a retried sign-in is a slow sign-in
            with open(os.environ["TOKEN_ATTEMPTS"], "a") as stream:
                stream.write("attempt\n")
        raise ClientAuthenticationError(
            "DefaultAzureCredential failed to retrieve a token from the included credentials."
        )


def _seam(standin: AmlStandin, tmp_path: Path, credential: str) -> dict[str, str]:
    return {
        **write_seam(tmp_path / "standin.json", standin, credential=credential),
        "PYTHONPATH": str(REPO),
        "AZURE_SUBSCRIPTION_ID": standin.subscription_id,
        "AZURE_STORAGE_ACCOUNT_KEY": "",
    }


@pytest.fixture
def seam(aml_standin: AmlStandin, tmp_path: Path) -> dict[str, str]:
    return _seam(aml_standin, tmp_path, "tests.support.credentials:FakeCredential")


def _point_at_standin(project: Path, standin: AmlStandin, **replacements: str) -> None:
    config = project / "conf" / "base" / "azureml.yml"
    text = config.read_text()
    text = text.replace('"example-rg"', f'"{standin.resource_group}"')
    text = text.replace('"example-ws"', f'"{standin.workspace_name}"')
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    config.write_text(text)


@pytest.fixture
def example(tmp_path: Path, aml_standin: AmlStandin) -> Path:
    project = copy_example(tmp_path)
    _point_at_standin(project, aml_standin)
    return project


def _ready(standin: AmlStandin) -> None:
    standin.add_compute("cpu-cluster")
    standin.add_compute("cpu-cluster-8", vm_size="STANDARD_D8_V3")
    standin.add_environment(ENVIRONMENT, "1", image="acr.local/kedro-spaceflights:1")


def _job_put(standin: AmlStandin) -> RecordedRequest:
    (put,) = standin.find("PUT", r"^\{ws\}/jobs/[^/]+$")
    return put


def _created_nothing(standin: AmlStandin) -> bool:
    return not [r for r in standin.requests if r.method in ("PUT", "POST")]


def test_run_submits_the_example_with_code_upload(
    example: Path, aml_standin: AmlStandin, azurite: AzuriteBlob, seam: dict[str, str]
) -> None:
    from azure.storage.blob import BlobServiceClient

    _ready(aml_standin)
    (example / "conf" / "local" / "credentials.yml").write_text("secret: hunter2\n")
    (example / "src" / "spaceflights" / "empty_marker.py").write_text("")
    manifest = scan_code_directory(example)

    result = kedro(example, "azureml", "run", "--env-var", "KEDRO_LOGGING=quiet", **seam)

    put = _job_put(aml_standin)
    name = put.path.rsplit("/", 1)[1]
    assert f"Job {name} created in experiment spaceflights" in result.stdout
    assert f"Studio: {aml_standin.studio_url(name)}&tid=" in result.stdout
    assert f"Uploading code: {len(manifest.files)} files, " in result.stdout
    assert f"{manifest.total_bytes / 1000:.1f} kB" in result.stdout  # the example: ~0.5 MB
    assert "TEST SEAM ACTIVE" in result.stderr
    assert aml_standin.unmatched == []
    # Every cluster is checked before anything is created.
    calls = aml_standin.calls()
    first_write = next(i for i, c in enumerate(calls) if c.startswith(("PUT", "POST")))
    assert {"GET {ws}/computes/cpu-cluster", "GET {ws}/computes/cpu-cluster-8"} <= set(
        calls[:first_write]
    )

    props = put.body["properties"]
    assert props["experimentName"] == "spaceflights"
    assert props["computeId"].endswith("/computes/cpu-cluster")
    steps = props["jobs"]
    components = {r.path: r.body["properties"] for r in aml_standin.find("PUT", "/components/")}
    specs = {name: components[step["componentId"]]["componentSpec"] for name, step in steps.items()}
    nodes_of = {name: spec["tags"]["kedro_nodes"].split(",") for name, spec in specs.items()}
    short = {node.rsplit(".", 1)[-1] for nodes in nodes_of.values() for node in nodes}
    assert short >= CHUNKY_NODES | {"preprocess_shuttles_node", "train_model_node"}
    for name, step in steps.items():
        chunky = {node.rsplit(".", 1)[-1] in CHUNKY_NODES for node in nodes_of[name]}
        assert len(chunky) == 1, f"step {name} mixes computes"
        cluster = "cpu-cluster-8" if chunky == {True} else "cpu-cluster"
        assert step["computeId"].endswith(f"/computes/{cluster}"), name
        assert step["environment_variables"] == {"KEDRO_LOGGING": "quiet"}
        assert step["display_name"].startswith(nodes_of[name][0])
    environment = f"azureml:{aml_standin.ws_path}/environments/{ENVIRONMENT}/versions/1"
    assert {spec["environment"] for spec in specs.values()} == {environment}
    for name, spec in specs.items():
        assert spec["command"].startswith("kedro azureml execute --env base"), name
        assert all(f"--node {node}" in spec["command"] for node in nodes_of[name])

    # Exactly the manifest landed in Azurite: no secrets, no empty files, no produced data.
    (upload,) = aml_standin.pending_uploads
    container = BlobServiceClient.from_connection_string(
        azurite.connection_string
    ).get_container_client(upload.container)
    landed = sorted(b.name.split("/", 1)[1] for b in container.list_blobs())
    assert landed == sorted(manifest.files)
    assert "conf/base/catalog.yml" in landed
    assert any(f.startswith("data/01_raw/") for f in landed)
    assert not [f for f in landed if f.startswith(("conf/local/", ".kedro-azureml/", "data/02"))]
    assert "src/spaceflights/empty_marker.py" not in landed


HOOK = """
import json
import os


def record(job):
    with open(os.environ["HOOK_OUT"], "w") as stream:
        json.dump({"type": type(job).__name__, "name": job.name, "steps": sorted(job.jobs)}, stream)
"""


def test_subscription_pipeline_params_and_hook_from_the_command_line(
    example: Path, aml_standin: AmlStandin, seam: dict[str, str], tmp_path: Path
) -> None:
    """`-s`, `-p`, `--params` and `--on-job-scheduled` of the quickstart, through the real CLI.

    `-s` wins over azure.subscription_id and over $AZURE_SUBSCRIPTION_ID.
    """
    _ready(aml_standin)
    _point_at_standin(example, aml_standin, **{aml_standin.subscription_id: OTHER_SUBSCRIPTION})
    (example / "src" / "job_hook.py").write_text(HOOK)
    out = tmp_path / "hook.json"
    result = kedro(
        example,
        "azureml",
        "run",
        "-s",
        aml_standin.subscription_id,
        "-p",
        "distributed",
        "--params",
        '{"data_science": {"active_modelling_pipeline": {"num_nodes": 3}}}',
        "--on-job-scheduled",
        "job_hook:record",
        **{**seam, "AZURE_SUBSCRIPTION_ID": OTHER_SUBSCRIPTION, "HOOK_OUT": str(out)},
    )
    put = _job_put(aml_standin)
    name = put.path.rsplit("/", 1)[1]
    assert f"/subscriptions/{aml_standin.subscription_id}/" in put.path
    hooked = json.loads(out.read_text())
    assert hooked["type"] == "PipelineJob" and hooked["name"] == name
    assert set(hooked["steps"]) == set(put.body["properties"]["jobs"])
    train = put.body["properties"]["jobs"][
        "data_science_active_modelling_pipeline_train_distributed_model_node"
    ]
    assert train["resources"]["instance_count"] == 3
    assert train["distribution"]["distribution_type"].lower() == "pytorch"
    assert "Studio:" not in result.stdout  # the hook replaces the default printout


def _fails(result: Any) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    return " ".join((result.stdout + result.stderr).split())


def test_azureml_yml_subscription_wins_over_the_environment(
    example: Path, aml_standin: AmlStandin, seam: dict[str, str]
) -> None:
    """The project's file wins over what the shell exports (it used to be the other way)."""
    env = {**seam, "AZURE_SUBSCRIPTION_ID": OTHER_SUBSCRIPTION}

    _fails(kedro(example, "azureml", "run", check=False, **env))  # no compute: stops early

    called = {
        match[1]
        for r in aml_standin.requests
        if (match := re.search(r"/subscriptions/([^/]+)/", r.path))
    }
    assert called == {aml_standin.subscription_id}


def test_secrets_in_the_snapshot_are_refused(
    example: Path, aml_standin: AmlStandin, azurite: AzuriteBlob, seam: dict[str, str]
) -> None:
    from azure.storage.blob import BlobServiceClient

    _ready(aml_standin)
    amlignore = example / ".amlignore"
    amlignore.write_text(amlignore.read_text().replace("conf/local/\n", "").replace(".env\n", ""))
    (example / "conf" / "local" / "settings.yml").write_text("token: hunter2\n")
    (example / ".env").write_text("TOKEN=hunter2\n")

    message = _fails(kedro(example, "azureml", "run", check=False, **seam))

    assert "2 file(s) that look like secrets" in message
    assert ".env, conf/local/settings.yml" in message
    assert "--allow-secrets-upload" in message
    assert aml_standin.requests == []

    # Asked for explicitly, they go up with the rest.
    kedro(example, "azureml", "run", "--allow-secrets-upload", **seam)
    (upload,) = aml_standin.pending_uploads
    container = BlobServiceClient.from_connection_string(
        azurite.connection_string
    ).get_container_client(upload.container)
    landed = {b.name.split("/", 1)[1] for b in container.list_blobs()}
    assert {".env", "conf/local/settings.yml"} <= landed


CONNECTION_STRING = (
    "DefaultEndpointsProtocol=https;AccountName=prodstore;AccountKey="
    + base64.b64encode(bytes(range(64, 128))).decode()
    + ";EndpointSuffix=core.windows.net"
)


def test_secrets_inside_ordinary_files_are_refused_by_content(
    example: Path, aml_standin: AmlStandin, azurite: AzuriteBlob, seam: dict[str, str]
) -> None:
    """A connection string in a .py file, an AWS key in conf/base/aws.ini, a token in a
    notebook: refused with path:line and kind, never echoed; accepted one by one as a team would."""
    from azure.storage.blob import BlobServiceClient

    _ready(aml_standin)
    nodes = example / "src" / "spaceflights" / "storage.py"
    nodes.write_text(f'"""Where reports go."""\n\nCONNECTION = "{CONNECTION_STRING}"\n')
    aws = example / "conf" / "base" / "aws.ini"
    aws.write_text("[default]\nregion = eu-west-1\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n")
    notebook = example / "notebooks" / "explore.ipynb"
    notebook.parent.mkdir()
    token = "ghp_" + "Xy7" * 12
    notebook.write_text(json.dumps({"cells": [{"source": [f'TOKEN = "{token}"\n']}]}, indent=1))

    message = _fails(kedro(example, "azureml", "run", check=False, **seam))

    assert "Not submitted: 3 possible secret(s) in files that would be uploaded" in message
    assert "conf/base/aws.ini:3: AWS access key ID" in message
    assert "notebooks/explore.ipynb:5: GitHub token" in message
    assert "src/spaceflights/storage.py:3: Azure storage account key (AccountKey=)" in message
    assert "pragma: allowlist secret" in message and "--allow-secrets-upload" in message
    for secret in ("AKIAIOSFODNN7EXAMPLE", token, CONNECTION_STRING.split("AccountKey=")[1][:20]):
        assert secret not in message
    assert "Traceback" not in message
    assert aml_standin.requests == []

    # A team accepts them: an inline pragma, .amlsecrets, and a baseline entry.
    aws.write_text(aws.read_text().replace("EXAMPLE\n", "EXAMPLE  # pragma: allowlist secret\n"))
    (example / ".amlsecrets").write_text("notebooks/\n")
    (example / ".secrets.baseline").write_text(
        json.dumps(
            {
                "results": {
                    "src/spaceflights/storage.py": [
                        {
                            "type": "Azure Storage Account access key",
                            "hashed_secret": "0" * 40,
                            "line_number": 3,
                        }
                    ]
                }
            }
        )
    )
    kedro(example, "azureml", "run", **seam)
    (upload,) = aml_standin.pending_uploads
    container = BlobServiceClient.from_connection_string(
        azurite.connection_string
    ).get_container_client(upload.container)
    landed = {b.name.split("/", 1)[1] for b in container.list_blobs()}
    assert {"conf/base/aws.ini", "notebooks/explore.ipynb", "src/spaceflights/storage.py"} <= landed


def test_only_a_gitignore_never_uploads_git_or_cli_credentials_and_skips_dangling_links(
    example: Path, aml_standin: AmlStandin, azurite: AzuriteBlob, seam: dict[str, str]
) -> None:
    from azure.storage.blob import BlobServiceClient

    _ready(aml_standin)
    (example / ".amlignore").unlink()  # Azure ML then reads .gitignore
    for rel in (".git/config", ".azure/accessTokens.json", ".aws/config", ".kube/config"):
        (example / rel).parent.mkdir(exist_ok=True)
        (example / rel).write_text("[remote]\n  url = https://x-access-token:abc@github.com/o/r\n")
    (example / "src" / "spaceflights" / ".#nodes.py").symlink_to("user@host.4242:1700000000")

    result = kedro(example, "azureml", "run", **seam)

    assert "Skipped src/spaceflights/.#nodes.py in the code snapshot: it is a symlink to" in (
        " ".join((result.stdout + result.stderr).split())
    )
    assert "Traceback" not in result.stdout + result.stderr
    (upload,) = aml_standin.pending_uploads
    container = BlobServiceClient.from_connection_string(
        azurite.connection_string
    ).get_container_client(upload.container)
    landed = {b.name.split("/", 1)[1] for b in container.list_blobs()}
    assert "src/spaceflights/pipeline_registry.py" in landed
    assert not [f for f in landed if f.startswith((".git/", ".azure/", ".aws/", ".kube/"))]


def test_missing_compute_cluster_stops_before_anything_is_created(
    example: Path, aml_standin: AmlStandin, seam: dict[str, str]
) -> None:
    aml_standin.add_compute("cpu-cluster")
    aml_standin.add_environment(ENVIRONMENT, "1")

    message = _fails(kedro(example, "azureml", "run", check=False, **seam))

    assert "Compute cluster 'cpu-cluster-8' (azure.compute.chunky) does not exist" in message
    assert "'cpu-cluster' " not in message
    assert _created_nothing(aml_standin)


def test_unknown_environment_stops_before_anything_is_created(
    example: Path, aml_standin: AmlStandin, seam: dict[str, str]
) -> None:
    _ready(aml_standin)

    message = _fails(
        kedro(
            example, "azureml", "run", "--aml-env", "kedro-spacefligts@latest", check=False, **seam
        )
    )

    assert "Environment 'kedro-spacefligts@latest' is not registered" in message
    assert "az ml environment create --name kedro-spacefligts" in message
    assert _created_nothing(aml_standin)


def test_empty_conf_env_is_refused(
    example: Path, aml_standin: AmlStandin, seam: dict[str, str]
) -> None:
    _ready(aml_standin)
    (example / "conf" / "azure").mkdir()
    (example / "conf" / "azure" / "empty.yml").write_text("")

    message = _fails(kedro(example, "azureml", "run", "-e", "azure", check=False, **seam))

    assert "conf/azure/ has no non-empty file in the code snapshot" in message
    assert aml_standin.requests == []


def test_auth_failure_is_fast_and_says_what_to_do(
    example: Path, aml_standin: AmlStandin, tmp_path: Path
) -> None:
    _ready(aml_standin)
    seam = _seam(aml_standin, tmp_path, "tests.integration.test_submit:RefusingCredential")

    attempts = tmp_path / "token-attempts.txt"
    message = _fails(
        kedro(example, "azureml", "run", check=False, TOKEN_ATTEMPTS=str(attempts), **seam)
    )

    assert attempts.read_text().splitlines() == ["attempt"]  # asked once, no retry loop
    assert "Could not sign in to Azure (DefaultAzureCredential failed" in message
    assert "az login" in message and "AZURE_CLIENT_SECRET" in message
    assert "Traceback" not in message
    assert aml_standin.requests == []


def _steps(project: Path) -> dict[str, str]:
    """The compiled example's steps: display name -> the step's Kedro nodes ("a,b")."""
    result = kedro(project, "azureml", "compile", "-o", "compiled.yaml")
    assert "steps" in result.stdout
    jobs = yaml.safe_load((project / "compiled.yaml").read_text())["jobs"]
    steps = {}
    for step in jobs.values():
        component = step["component"]
        tags = step.get("tags") or component.get("tags")
        steps[component["display_name"]] = tags["kedro_nodes"]
    return steps


def test_wait_for_a_failed_job_prints_the_summary_and_exits_1(
    example: Path, aml_standin: AmlStandin, seam: dict[str, str]
) -> None:
    _ready(aml_standin)
    steps = _steps(example)
    failed = list(steps)[-1]
    children = {name: "Completed" for name in steps} | {failed: "Failed"}
    aml_standin.script_next_job(
        ["Failed"], error="step evaluate_model_node exited with code 1", children=children
    )

    result = kedro(example, "azureml", "run", "--wait-for-completion", check=False, **seam)

    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    assert "Execution Summary" in out  # the SDK's stream ran
    assert "Final status: Failed" in out
    child = aml_standin.child_run_id(_job_put(aml_standin).path.rsplit("/", 1)[1], failed)
    line = next(line for line in out.splitlines() if line.startswith(f"Step {failed} failed"))
    assert f"(Kedro nodes: {steps[failed].replace(',', ', ')}); logs: " in line
    assert f"/runs/{child}?wsid=" in line
    assert aml_standin.calls()[-1].endswith("/children")


def test_wait_for_a_completed_job_streams_logs_and_exits_0(
    example: Path, aml_standin: AmlStandin, seam: dict[str, str]
) -> None:
    _ready(aml_standin)
    children = dict.fromkeys(_steps(example), "Completed")
    aml_standin.script_next_job(
        ["Running", "Running", "Completed"],
        logs={"logs/azureml/executionlogs.txt": "[2024-01-01 10:00:00Z] Submitting 2 runs\n"},
        children=children,
    )

    result = kedro(example, "azureml", "run", "--wait-for-completion", **seam)

    assert "Streaming logs/azureml/executionlogs.txt" in result.stdout
    assert "Submitting 2 runs" in result.stdout
    assert "Final status: Completed" in result.stdout
    assert result.stdout.count("Completed") >= len(children)


Reaction = tuple[bytes, "Callable[[subprocess.Popen[bytes], int], Any]"]


def _type(answer: str) -> Callable[[subprocess.Popen[bytes], int], Any]:
    return lambda _, terminal: os.write(terminal, answer.encode() + b"\n")


def _at_terminal(
    args: list[str], cwd: Path, env: dict[str, str], reactions: list[Reaction]
) -> tuple[int, str]:
    """Run `kedro ARGS` on a pseudo-terminal; each reaction fires once, when its text shows."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [str(BIN / "kedro"), *args],
        cwd=cwd,
        env=env,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        close_fds=True,
    )
    os.close(slave)
    output, pending = b"", list(reactions)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                output += os.read(master, 4096)
            except OSError:  # the child closed the terminal
                break
            if pending and pending[0][0] in output:
                pending.pop(0)[1](proc, master)
        elif proc.poll() is not None:
            break
    os.close(master)
    return proc.wait(timeout=30), " ".join(output.decode(errors="replace").split())


MODE_B = {"enabled: true": "enabled: false"}
# Base64, as real account keys are, so a SAS can be signed with it.
PLANTED_KEY = base64.b64encode(b"planted-storage-key-" + bytes(range(24))).decode()


@pytest.fixture
def mode_b(example: Path, aml_standin: AmlStandin) -> Path:
    """The example passing data through the temporary Blob container (mode B)."""
    _point_at_standin(example, aml_standin, **MODE_B)
    _ready(aml_standin)
    return example


def test_mode_b_without_a_key_and_without_a_terminal_is_a_clear_error(
    mode_b: Path, aml_standin: AmlStandin, seam: dict[str, str]
) -> None:
    message = _fails(kedro(mode_b, "azureml", "run", check=False, **seam))

    assert (
        "Environment variable AZURE_STORAGE_ACCOUNT_KEY not set, and there is no terminal"
        in message
    )
    assert "storage account examplestorage" in message
    assert aml_standin.requests == []


def _everything_sent(standin: AmlStandin) -> str:
    return json.dumps([(r.path, r.query, r.headers, r.body) for r in standin.requests], default=str)


def test_mode_b_registers_a_sas_datastore_and_the_key_never_leaves(
    mode_b: Path, aml_standin: AmlStandin, seam: dict[str, str]
) -> None:
    result = kedro(mode_b, "azureml", "run", **{**seam, "AZURE_STORAGE_ACCOUNT_KEY": PLANTED_KEY})

    name = temp_datastore_name("examplestorage", "kedro-azureml-temp")
    (datastore,) = aml_standin.find("PUT", rf"^\{{ws\}}/datastores/{name}$")
    props = datastore.body["properties"]
    assert (props["accountName"], props["containerName"]) == (
        "examplestorage",
        "kedro-azureml-temp",
    )
    assert props["credentials"]["credentialsType"] == "Sas"
    sas = props["credentials"]["secrets"]["sasToken"]
    assert "sig=" in sas and "se=" in sas and "sr=c" in sas
    fields = dict(part.split("=", 1) for part in sas.split("&"))
    expiry = datetime.fromisoformat(unquote(fields["se"]).replace("Z", "+00:00"))
    lifetime = expiry - datetime.now(timezone.utc)
    assert timedelta(days=6, hours=23) < lifetime <= timedelta(days=7)  # the default 7 days
    # The datastore is registered before the job that mounts it.
    calls = aml_standin.calls()
    assert calls.index(datastore.call) < calls.index(_job_put(aml_standin).call)
    outputs = [
        out
        for step in _job_put(aml_standin).body["properties"]["jobs"].values()
        for out in step.get("outputs", {}).values()
        if "uri" in out
    ]
    assert outputs and all(
        o["uri"].startswith(f"azureml://datastores/{name}/paths/kedro-azureml-temp/")
        for o in outputs
    )
    for text in (_everything_sent(aml_standin), result.stdout, result.stderr):
        assert PLANTED_KEY not in text
        assert PLANTED_KEY[:16] not in text


def test_mode_b_refuses_code_that_contains_the_key(
    mode_b: Path, aml_standin: AmlStandin, seam: dict[str, str]
) -> None:
    (mode_b / "conf" / "base" / "globals.yml").write_text(f"storage_key: {PLANTED_KEY}\n")
    env = {**seam, "AZURE_STORAGE_ACCOUNT_KEY": PLANTED_KEY}
    message = _fails(kedro(mode_b, "azureml", "run", check=False, **env))
    assert "The storage account key is written in conf/base/globals.yml" in message
    assert PLANTED_KEY not in message
    assert _created_nothing(aml_standin)


def test_mode_b_finds_the_key_past_the_first_2_mb_of_a_file(
    mode_b: Path, aml_standin: AmlStandin, seam: dict[str, str]
) -> None:
    raw = mode_b / "data" / "01_raw" / "big_export.csv"
    raw.write_text("id,value\n" + "1,2\n" * 800_000 + f"9,{PLANTED_KEY}\n")  # 3.2 MB
    env = {**seam, "AZURE_STORAGE_ACCOUNT_KEY": PLANTED_KEY}

    message = _fails(kedro(mode_b, "azureml", "run", check=False, **env))

    assert "The storage account key is written in data/01_raw/big_export.csv" in message
    assert PLANTED_KEY not in message
    assert _created_nothing(aml_standin)


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (
            ("--env-var", f"AZURE_STORAGE_ACCOUNT_KEY={PLANTED_KEY}"),
            "--env-var AZURE_STORAGE_ACCOUNT_KEY",
        ),
        (("--env-var", f"BACKUP=key:{PLANTED_KEY}"), "--env-var BACKUP"),
        (("--params", json.dumps({"io": {"k": PLANTED_KEY}})), "--params io.k"),
    ],
    ids=["env-var", "env-var-containing", "params"],
)
def test_mode_b_refuses_the_key_in_options(
    mode_b: Path,
    aml_standin: AmlStandin,
    seam: dict[str, str],
    args: tuple[str, ...],
    option: str,
) -> None:
    env = {**seam, "AZURE_STORAGE_ACCOUNT_KEY": PLANTED_KEY}

    message = _fails(kedro(mode_b, "azureml", "run", *args, check=False, **env))

    assert "would be written into the job definition sent to Azure ML" in message
    assert f"- {option}: the storage account key" in message
    assert PLANTED_KEY not in message
    assert "Traceback" not in message
    assert aml_standin.requests == []


def test_a_client_secret_in_options_is_refused_without_mode_b(
    example: Path, aml_standin: AmlStandin, seam: dict[str, str]
) -> None:
    _ready(aml_standin)
    secret = "cl1ent~Secret.Value_0123456789"
    env = {**seam, "AZURE_CLIENT_SECRET": secret}

    message = _fails(
        kedro(example, "azureml", "run", "--env-var", f"SP={secret}", check=False, **env)
    )

    assert "- --env-var SP: the value of $AZURE_CLIENT_SECRET" in message
    assert secret not in message
    assert aml_standin.requests == []


def test_mode_b_with_a_malformed_key_says_so_first(
    mode_b: Path, aml_standin: AmlStandin, seam: dict[str, str]
) -> None:
    env = {**seam, "AZURE_STORAGE_ACCOUNT_KEY": "not-a-key!"}

    message = _fails(kedro(mode_b, "azureml", "run", check=False, **env))

    assert (
        "Environment variable AZURE_STORAGE_ACCOUNT_KEY is not a storage account key: account "
        "keys are base64" in message
    )
    assert "not-a-key!" not in message
    assert "Traceback" not in message and "binascii" not in message
    assert aml_standin.requests == []


def test_mode_b_with_identity_registers_a_datastore_without_credentials(
    example: Path, aml_standin: AmlStandin, seam: dict[str, str]
) -> None:
    _point_at_standin(
        example,
        aml_standin,
        **MODE_B,
        **{
            'container: "kedro-azureml-temp"': 'container: "kedro-azureml-temp"\n    auth: identity'
        },
    )
    _ready(aml_standin)
    kedro(example, "azureml", "run", **seam)  # no AZURE_STORAGE_ACCOUNT_KEY, no terminal

    (datastore,) = aml_standin.find("PUT", r"^\{ws\}/datastores/kedro_azureml_temp_[0-9a-f]{8}$")
    credentials = datastore.body["properties"]["credentials"]
    assert credentials["credentialsType"] == "None"
    assert "secrets" not in credentials


def test_mode_b_asks_for_the_key_at_a_terminal(
    mode_b: Path, aml_standin: AmlStandin, seam: dict[str, str]
) -> None:
    """Quickstart step 10, verbatim, through a pseudo-terminal; the key is not echoed."""
    from kedro_azureml.cloud.auth import CI_ENV_VARS

    returncode, text = _at_terminal(
        ["azureml", "run"],
        mode_b,
        quiet_env(**seam, **dict.fromkeys(CI_ENV_VARS, "")),
        [(b"storage account examplestorage:", _type(PLANTED_KEY))],
    )
    assert returncode == 0, text
    assert (
        "Environment variable AZURE_STORAGE_ACCOUNT_KEY not set, falling back to CLI prompt" in text
    )
    assert "Please provide Azure Storage Account Key for storage account examplestorage:" in text
    assert PLANTED_KEY not in text
    assert "Job " in text and " created in experiment spaceflights" in text
    assert len(aml_standin.find("PUT", r"/datastores/kedro_azureml_temp_[0-9a-f]{8}$")) == 1
    assert PLANTED_KEY not in _everything_sent(aml_standin)


def test_docker_image_flow_uploads_no_code_and_runs_in_the_image(
    example: Path, aml_standin: AmlStandin, seam: dict[str, str]
) -> None:
    _point_at_standin(
        example,
        aml_standin,
        **{'code_directory: "."': "code_directory: ~", "image: ~": 'image: "acr.local/sf:1"'},
    )
    aml_standin.add_compute("cpu-cluster")
    aml_standin.add_compute("cpu-cluster-8")

    kedro(example, "azureml", "run", "-i", "acr.local/sf:2", **seam)

    assert not aml_standin.find(None, "/codes/") and not aml_standin.pending_uploads
    images = {r.body["properties"]["image"] for r in aml_standin.find("PUT", "/environments/")}
    assert images == {"acr.local/sf:2"}
    specs = [r.body["properties"]["componentSpec"] for r in aml_standin.find("PUT", "/components/")]
    assert specs and all(
        s["command"].startswith("cd /home/kedro_docker && kedro azureml execute") for s in specs
    )
    assert all("code" not in s for s in specs)


def test_docker_image_flow_without_an_image_is_refused(
    example: Path, aml_standin: AmlStandin, seam: dict[str, str]
) -> None:
    _point_at_standin(example, aml_standin, **{'code_directory: "."': "code_directory: ~"})
    _ready(aml_standin)

    message = _fails(kedro(example, "azureml", "run", check=False, **seam))

    assert "the docker image flow (code_directory: ~) needs docker.image" in message
    assert aml_standin.requests == []


@pytest.mark.azure
def test_live_run_on_a_real_workspace(tmp_path: Path) -> None:
    """Opt in with `-m azure`: the example on a real workspace (AZURE_SUBSCRIPTION_ID,
    AZURE_RESOURCE_GROUP, AZURE_WORKSPACE_NAME; clusters cpu-cluster and cpu-cluster-8 and
    the environment kedro-spaceflights@latest must exist there)."""
    needed = ("AZURE_SUBSCRIPTION_ID", "AZURE_RESOURCE_GROUP", "AZURE_WORKSPACE_NAME")
    missing = [name for name in needed if not os.environ.get(name)]
    if missing:
        pytest.skip(f"live Azure ML test: set {', '.join(missing)}")
    project = copy_example(tmp_path)
    config = project / "conf" / "base" / "azureml.yml"
    config.write_text(
        config.read_text()
        .replace('"example-rg"', json.dumps(os.environ["AZURE_RESOURCE_GROUP"]))
        .replace('"example-ws"', json.dumps(os.environ["AZURE_WORKSPACE_NAME"]))
    )

    result = kedro(project, "azureml", "run", "--wait-for-completion", timeout=3600)

    assert "Final status: Completed" in result.stdout


ASSET_PIPELINE = """
from kedro.pipeline import Pipeline, node, pipeline


def count(companies):
    return {"rows": int(len(companies))}


def describe(companies, summary):
    return {**summary, "columns": list(companies.columns)}


def register_pipelines() -> dict[str, Pipeline]:
    return {
        "__default__": pipeline(
            [
                node(count, "companies", "summary", name="count"),
                node(describe, ["companies", "summary"], "described", name="describe"),
            ]
        )
    }
"""
ASSET_CATALOG = """
companies:
  type: kedro_azureml.datasets.AzureMLAssetDataset
  azureml_dataset: companies
  dataset:
    type: pandas.CSVDataset
    filepath: companies.csv
"""


@pytest.fixture
def asset_project(small_project: Path, aml_standin: AmlStandin, ml_client: Any) -> Path:
    """A project reading data asset ``companies`` (versions 1..3) with no version pinned."""
    from azure.ai.ml.entities import Data

    for version in ("1", "2", "3"):
        ml_client.data.create_or_update(
            Data(
                name="companies",
                version=version,
                type="uri_folder",
                path=f"azureml://datastores/workspaceblobstore/paths/companies/v{version}/",
            )
        )
    (small_project / "src" / "demo" / "pipeline_registry.py").write_text(ASSET_PIPELINE)
    (small_project / "conf" / "base" / "catalog.yml").write_text(ASSET_CATALOG)
    kedro(
        small_project,
        *("azureml", "init", "-s", aml_standin.subscription_id, aml_standin.resource_group),
        *(aml_standin.workspace_name, "exp", "cpu", "env@latest"),
    )
    set_grouping(small_project, "none")  # two steps, each binding the asset version
    aml_standin.add_compute("cpu")
    aml_standin.add_environment("env", "1")
    aml_standin.requests.clear()
    return small_project


@pytest.mark.parametrize(
    ("args", "version", "printed"),
    [
        ((), "3", "Data asset versions: companies -> 3"),
        (("--load-versions", "companies:2"), "2", None),
    ],
    ids=["latest-resolved-once", "pinned-by-user"],
)
def test_run_binds_one_asset_version_for_every_step(
    asset_project: Path,
    aml_standin: AmlStandin,
    seam: dict[str, str],
    args: tuple[str, ...],
    version: str,
    printed: str | None,
) -> None:
    result = kedro(asset_project, "azureml", "run", *args, **seam)

    assert (printed in result.stdout) if printed else "Data asset versions" not in result.stdout
    # Looked up at most once, before anything else; the job then names the version, which the
    # SDK turns into its ARM id without asking again (``@latest`` would be looked up again).
    calls = aml_standin.calls()
    lookups = ["GET {ws}/data/companies", "GET {ws}/data/companies/versions/3"] if printed else []
    assert [c for c in calls if "/data/" in c] == calls[: len(lookups)] == lookups
    steps = _job_put(aml_standin).body["properties"]["jobs"]
    assert len(steps) == 2
    components = {r.path: r.body["properties"] for r in aml_standin.find("PUT", "/components/")}
    for name, step in steps.items():
        assert step["inputs"]["companies"]["uri"] == (
            f"{aml_standin.ws_path}/data/companies/versions/{version}"
        ), name
        command = components[step["componentId"]]["componentSpec"]["command"]
        assert f"--load-versions companies:{version}" in command, name


def test_unknown_asset_stops_before_anything_is_created(
    asset_project: Path, aml_standin: AmlStandin, seam: dict[str, str]
) -> None:
    catalog = asset_project / "conf" / "base" / "catalog.yml"
    catalog.write_text(catalog.read_text().replace(": companies\n", ": companeis\n"))

    message = _fails(kedro(asset_project, "azureml", "run", check=False, **seam))

    assert (
        "Could not find the latest version of data asset(s) companeis in workspace "
        f"'{aml_standin.workspace_name}': Asset companeis does not exist" in message
    )
    assert "--load-versions <dataset>:<version>" in message
    assert "Traceback" not in message
    assert _created_nothing(aml_standin)


def test_ctrl_c_while_waiting_offers_to_cancel_the_job(
    example: Path, aml_standin: AmlStandin, seam: dict[str, str]
) -> None:
    """At a terminal, Ctrl-C stops watching and, when confirmed, cancels the job in Azure ML."""
    from kedro_azureml.cloud.auth import CI_ENV_VARS

    _ready(aml_standin)
    aml_standin.script_next_job(
        ["Running"] * 500,
        logs={"logs/azureml/executionlogs.txt": "[2024-01-01 10:00:00Z] Submitting 2 runs\n"},
    )
    returncode, text = _at_terminal(
        ["azureml", "run", "--wait-for-completion"],
        example,
        quiet_env(**seam, **dict.fromkeys(CI_ENV_VARS, "")),
        [
            (b"Submitting 2 runs", lambda proc, _: os.kill(proc.pid, signal.SIGINT)),
            (b"in Azure ML? [y/N]", _type("y")),
        ],
    )
    assert returncode == 1, text
    assert "Stopped watching job" in text
    assert "Cancel requested for job" in text
    assert len(aml_standin.find("POST", r"/jobs/[^/]+/cancel$")) == 1
