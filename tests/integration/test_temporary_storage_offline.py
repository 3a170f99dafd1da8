"""Mode B without ``--remote-storage``: ``run --local`` needs no key and no network.

The data crosses steps through folders of the run laid out like the temporary container, with
the same paths and completion markers, and the job gives what it gives with pipeline data
passing. Unreachable storage with ``--remote-storage`` fails in seconds, with one message.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import yaml

from kedro_azureml.cloud.blob_folders import StorageUnreachable, open_blob_container
from kedro_azureml.step.serialization import load_object
from tests.support.azurite import ACCOUNT_KEY, ACCOUNT_NAME, HangUpServer, free_port
from tests.support.kedro_projects import kedro, last_run

ACCOUNT = "kedrooffline"
CONTAINER = "kedro-temp"
# Every step gets a folder of its own, so data really crosses steps whatever the default is.
RUN = ["azureml", "run", "--local", "-p", "kinds", "--group-by", "none", "--no-mlflow"]
UNRESOLVABLE = "kedro-azureml-test.invalid"  # RFC 2606: never resolves


def _no_storage_env(tmp_path: Path) -> dict[str, str]:
    """No storage secret, and any HTTP(S) connection attempt (Blob included) goes to a proxy
    port nothing listens on: a run that reached for storage would fail."""
    refused = f"http://127.0.0.1:{free_port()}"
    return {
        "AZURE_STORAGE_ACCOUNT_KEY": "",
        "AZURE_STORAGE_CONNECTION_STRING": "",
        "AZURE_STORAGE_SAS_TOKEN": "",
        "HTTP_PROXY": refused,
        "HTTPS_PROXY": refused,
        "http_proxy": refused,
        "https_proxy": refused,
        "NO_PROXY": "",
        "no_proxy": "",
    }


def _set_data_passing(project: Path, enabled: bool) -> None:
    path = project / "conf" / "base" / "azureml.yml"
    config = yaml.safe_load(path.read_text())
    config["azure"]["pipeline_data_passing"]["enabled"] = enabled
    path.write_text(yaml.safe_dump(config))


def _job_outputs(run_dir: Path) -> dict[str, object]:
    return {
        folder.name: load_object(str(folder)) for folder in sorted((run_dir / "outputs").iterdir())
    }


@pytest.fixture
def offline_project(small_project: Path) -> Path:
    init = ["azureml", "init", "rg", "ws", "exp", "cpu", ACCOUNT, CONTAINER, "env@latest"]
    kedro(small_project, *init)
    return small_project


def test_offline_mode_b_gives_the_outputs_of_pipeline_data_passing(
    offline_project: Path, tmp_path: Path
) -> None:
    env = _no_storage_env(tmp_path)
    offline = kedro(offline_project, *RUN, **env)
    offline_run = last_run(offline_project)
    _set_data_passing(offline_project, True)
    # No data crosses steps through the container: --remote-storage only says so.
    passing = kedro(offline_project, *RUN, "--remote-storage", **env)
    passing_run = last_run(offline_project)
    assert "--remote-storage has no effect" in passing.stdout

    assert offline_run != passing_run
    expected = {
        "kinds_report": {"array_sum": 135, "shifted": 103, "dtype": "int64"},
        "report": {"total": 165, "rows": 10, "max": 30},
    }
    assert _job_outputs(offline_run) == _job_outputs(passing_run) == expected

    # The container's layout and markers, in the run folder: kedro-azureml-temp/<run id>/<port>/
    run_id = json.loads((offline_run / "summary.json").read_text())["run_id"]
    container = offline_run / "temporary_storage" / ACCOUNT / CONTAINER
    assert f"Temporary data goes through the local folder {container}" in " ".join(
        offline.stdout.split()
    )
    data = container / "kedro-azureml-temp" / run_id
    assert {p.name for p in data.iterdir()} == {"scaled", "summary", "scaled_csv", "array", "shift"}
    for port in data.iterdir():
        marker = json.loads((port / "_kedro_azureml.json").read_text())
        assert marker["job_run_id"] == run_id
    assert (data / "scaled_csv" / "scaled.csv").read_text().splitlines()[:3] == ["x", "3", "6"]
    assert not (passing_run / "temporary_storage").exists()


def test_offline_mode_b_resumes_from_its_local_container(
    offline_project: Path, tmp_path: Path
) -> None:
    """A resumed run reads the finished steps' data from the run folder's container."""
    env = _no_storage_env(tmp_path)
    kedro(offline_project, *RUN, **env)
    run_dir = last_run(offline_project)
    summary = json.loads((run_dir / "summary.json").read_text())
    # Forget the last step: the resume runs it again, reading its inputs from the container.
    (run_dir / "steps" / "use_kinds.json").unlink()
    kedro(offline_project, *RUN, "--resume", **env)
    resumed = json.loads((run_dir / "summary.json").read_text())
    assert resumed["run_id"] == summary["run_id"]
    assert resumed["steps"]["use_kinds"]["reason"] == ""  # ran again, not reused
    assert resumed["steps"]["scale"]["reason"] == "reused from an earlier attempt"
    assert load_object(str(run_dir / "outputs" / "kinds_report"))["array_sum"] == 135

    refused = kedro(offline_project, *RUN, "--resume", "--remote-storage", check=False)
    assert refused.returncode == 1
    assert "passed its data through local folders" in " ".join(refused.stderr.split())


def _connection_string(endpoint: str) -> str:
    return (
        f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT_NAME};AccountKey={ACCOUNT_KEY};"
        f"BlobEndpoint={endpoint}/{ACCOUNT_NAME};"
    )


@pytest.mark.parametrize(
    ("host", "why"),
    [
        ("127.0.0.1:{free_port}", "the connection was refused"),
        (f"{UNRESOLVABLE}:10000", "its host name does not resolve"),
    ],
    ids=["refused", "unresolvable"],
)
def test_unreachable_storage_is_one_message_in_seconds(
    monkeypatch: pytest.MonkeyPatch, host: str, why: str
) -> None:
    host = host.format(free_port=free_port())  # nothing listens there
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", _connection_string(f"http://{host}"))
    started = time.perf_counter()
    with pytest.raises(StorageUnreachable) as caught:
        open_blob_container("myaccount", CONTAINER)
    elapsed = time.perf_counter() - started
    message = str(caught.value)
    assert message.startswith(
        f"Cannot reach storage account 'myaccount' (temporary_storage): {why}"
    )
    assert host in message and "without --remote-storage" in message
    assert caught.value.__cause__ is None  # one message, not the SDK's chain of tracebacks
    assert elapsed < 10  # the bound; it takes well under a second here


def test_a_storage_endpoint_that_hangs_up_is_tried_twice_at_most(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The SDK's default is 4 attempts, 15 s or more apart; the probe makes two at most."""
    server = HangUpServer()
    try:
        endpoint = f"http://127.0.0.1:{server.port}"
        monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", _connection_string(endpoint))
        with pytest.raises(StorageUnreachable, match=r"^Cannot reach storage account 'myaccount'"):
            open_blob_container("myaccount", CONTAINER)
    finally:
        server.close()
    assert server.connections == 2


def test_run_local_on_unreachable_storage_stops_before_any_step(offline_project: Path) -> None:
    result = kedro(
        offline_project,
        *RUN,
        "--remote-storage",
        check=False,
        AZURE_STORAGE_CONNECTION_STRING=_connection_string(f"http://{UNRESOLVABLE}:10000"),
    )
    assert result.returncode == 1
    errors = " ".join(result.stderr.split())
    assert errors.count("Cannot reach storage account") == 1
    assert f"'{ACCOUNT}'" in errors and "its host name does not resolve" in errors
    assert "Traceback" not in result.stdout + result.stderr
    assert not (last_run(offline_project) / "logs").exists()  # no step started
