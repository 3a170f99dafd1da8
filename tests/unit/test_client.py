"""Pure parts of client.py, auth.py and submit.py: the test seam, references, keys, checks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kedro_azureml.cloud.auth import (
    AuthenticationError,
    is_interactive,
    verified,
)
from kedro_azureml.cloud.client import (
    ALLOW_TEST_ENDPOINT_ENV,
    TEST_ENDPOINT_ENV,
    LocalTestEndpoint,
    WorkspaceConnection,
    container_sas,
    error_reason,
    parse_environment_reference,
)
from kedro_azureml.commands.submit import (
    SubmitCheckError,
    check_no_secrets,
    load_callback,
    storage_account_key,
)
from kedro_azureml.config import TemporaryStorageConfig
from kedro_azureml.errors import KedroAzureMLError
from kedro_azureml.project.secret_scan import looks_like_secret
from kedro_azureml.project.snapshot import SnapshotManifest

LOCAL = {
    "resource_manager": "https://127.0.0.1:8443/",
    "active_directory": "https://localhost:8443/",
    "aml_resource_id": "https://ml.local",
    "storage_endpoint": "standin.invalid",
}
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def _seam_file(
    tmp_path: Path, metadata: dict[str, str], blob_endpoints: dict[str, str] | None = None
) -> Path:
    path = tmp_path / "seam.json"
    seam: dict[str, Any] = {
        "cloud_name": "Standin",
        "cloud_metadata": metadata,
        "ca_bundle": "/tmp/ca.pem",
        "credential": "tests.support.credentials:FakeCredential",
    }
    if blob_endpoints is not None:
        seam["blob_endpoints"] = blob_endpoints
    path.write_text(json.dumps(seam))
    return path


def test_seam_is_off_without_both_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TEST_ENDPOINT_ENV, raising=False)
    monkeypatch.delenv(ALLOW_TEST_ENDPOINT_ENV, raising=False)
    assert LocalTestEndpoint.from_environment() is None


@pytest.mark.parametrize("which", [TEST_ENDPOINT_ENV, ALLOW_TEST_ENDPOINT_ENV])
def test_seam_needs_both_variables(
    which: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(TEST_ENDPOINT_ENV, raising=False)
    monkeypatch.delenv(ALLOW_TEST_ENDPOINT_ENV, raising=False)
    value = str(_seam_file(tmp_path, LOCAL)) if which == TEST_ENDPOINT_ENV else "1"
    monkeypatch.setenv(which, value)
    with pytest.raises(KedroAzureMLError, match="go together"):
        LocalTestEndpoint.from_environment()


def test_seam_reads_the_file_and_makes_the_credential(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TEST_ENDPOINT_ENV, str(_seam_file(tmp_path, LOCAL)))
    monkeypatch.setenv(ALLOW_TEST_ENDPOINT_ENV, "1")
    endpoint = LocalTestEndpoint.from_environment()
    assert endpoint is not None
    assert (endpoint.cloud_name, endpoint.ca_bundle) == ("Standin", "/tmp/ca.pem")
    token = endpoint.make_credential().get_token("https://ml.local/.default")
    assert token.token.count(".") == 2


@pytest.mark.parametrize(
    ("metadata", "blobs", "named"),
    [
        ({**LOCAL, "resource_manager": "https://management.azure.com/"}, None, "management"),
        (LOCAL, {"acct": "https://acct.blob.core.windows.net"}, "acct.blob.core"),
    ],
    ids=["remote-cloud", "remote-blob"],
)
def test_seam_refuses_remote_urls(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    metadata: dict[str, str],
    blobs: dict[str, str] | None,
    named: str,
) -> None:
    monkeypatch.setenv(TEST_ENDPOINT_ENV, str(_seam_file(tmp_path, metadata, blobs)))
    monkeypatch.setenv(ALLOW_TEST_ENDPOINT_ENV, "1")
    with pytest.raises(KedroAzureMLError, match=rf"may only point at this machine.*{named}"):
        LocalTestEndpoint.from_environment()


def test_seam_blob_endpoints_override_the_account_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    azurite = "http://127.0.0.1:10000/devstoreaccount1"
    monkeypatch.setenv(
        TEST_ENDPOINT_ENV, str(_seam_file(tmp_path, LOCAL, {"devstoreaccount1": azurite}))
    )
    monkeypatch.setenv(ALLOW_TEST_ENDPOINT_ENV, "1")
    endpoint = LocalTestEndpoint.from_environment()
    assert endpoint is not None
    connection = WorkspaceConnection(None, None, endpoint.blob_endpoints)
    assert connection.blob_account_url("devstoreaccount1", "core.windows.net", "https") == azurite
    assert (
        connection.blob_account_url("other", "core.windows.net", "https")
        == "https://other.blob.core.windows.net"
    )


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("azureml:kedro-env@latest", ("kedro-env", "latest", None)),
        ("kedro-env@latest", ("kedro-env", "latest", None)),
        ("azureml:kedro-env:3", ("kedro-env", None, "3")),
        ("kedro-env:1.2", ("kedro-env", None, "1.2")),
    ],
    ids=["prefixed-label", "label", "prefixed-version", "version"],
)
def test_parse_environment_reference(reference: str, expected: tuple[Any, ...]) -> None:
    assert parse_environment_reference(reference) == expected


class _SdkError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("Conflict: the job exists\nmore detail", "Conflict: the job exists"),
        (
            "\n\x1b[37m\n\x1b[30m\n1) Resource was not found.\n\x1b[39m\x1b[39m\n\nDetails: \n\n"
            "\x1b[31m(x) Asset companeis does not exist in workspace ws.\x1b[39m\n\n"
            "Resolutions: \n1) Double-check that the resource has been specified correctly",
            "Asset companeis does not exist in workspace ws.",
        ),
        ("  \n", "_SdkError"),
        (
            "HTTPSConnectionPool(host='a.blob.core.windows.net', port=443): Max retries exceeded "
            "with url: /code-1/x.py?sv=2022-11-02&sr=c&sig=AbC%2Bd0123456789&se=2026 (Caused by)",
            "HTTPSConnectionPool(host='a.blob.core.windows.net', port=443): Max retries exceeded "
            "with url: /code-1/x.py?... (Caused by)",
        ),
    ],
    ids=["first-line", "sdk-formatted", "empty", "sas-in-url"],
)
def test_error_reason_is_one_readable_line(message: str, reason: str) -> None:
    assert error_reason(_SdkError(message)) == reason


def test_a_failed_code_upload_is_one_message_without_its_sas() -> None:
    """The SDK uploads the code to a SAS URL; a connection error there names the URL."""
    from types import SimpleNamespace

    from azure.core.exceptions import ServiceRequestError

    from kedro_azureml.cloud.client import AzureMLError, create_job

    def refuse(job: Any, **kwargs: Any) -> Any:
        raise ServiceRequestError("Connection refused: https://a/c/x.py?sv=1&sig=SECRETSIG")

    client = SimpleNamespace(jobs=SimpleNamespace(create_or_update=refuse))
    with pytest.raises(AzureMLError) as raised:
        create_job(client, SimpleNamespace(jobs={}), "exp")

    assert str(raised.value) == (
        "Azure ML did not accept the job: Connection refused: https://a/c/x.py?..."
    )
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


class _Refusing:
    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.exceptions import ClientAuthenticationError

        raise ClientAuthenticationError("EnvironmentCredential: not configured.\nmore detail")


def test_failed_sign_in_says_what_to_do() -> None:
    with pytest.raises(AuthenticationError) as info:
        verified(_Refusing())
    message = str(info.value)
    assert message.startswith("Could not sign in to Azure (EnvironmentCredential: not configured.)")
    assert "az login" in message and "AZURE_CLIENT_ID" in message and "more detail" not in message


def test_ci_is_never_interactive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    assert is_interactive() is False


STORAGE = TemporaryStorageConfig(account_name="acct", container="temp", sas_ttl_days=2)


class _Console:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def print(self, text: str, **kwargs: Any) -> None:
        self.lines.append(text)


def test_key_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_KEY", KEY)
    assert storage_account_key(STORAGE, console=_Console(), interactive=False) == KEY


def test_identity_auth_needs_no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AZURE_STORAGE_ACCOUNT_KEY", raising=False)
    storage = STORAGE.model_copy(update={"auth": "identity"})
    assert storage_account_key(storage, console=_Console(), interactive=False) is None


def test_key_prompt_at_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AZURE_STORAGE_ACCOUNT_KEY", raising=False)
    console, asked = _Console(), []

    def prompt(text: str) -> str:
        asked.append(text)
        return f" {KEY} "

    assert storage_account_key(STORAGE, console=console, interactive=True, prompt=prompt) == KEY
    assert console.lines == [
        "Environment variable AZURE_STORAGE_ACCOUNT_KEY not set, falling back to CLI prompt"
    ]
    assert asked == ["Please provide Azure Storage Account Key for storage account acct"]


def test_no_key_and_no_terminal_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AZURE_STORAGE_ACCOUNT_KEY", raising=False)
    with pytest.raises(
        SubmitCheckError, match="no terminal to ask for the key of storage account acct"
    ):
        storage_account_key(STORAGE, console=_Console(), interactive=False)


def test_container_sas_is_signed_not_the_key() -> None:
    sas = container_sas(STORAGE, KEY)
    fields = dict(part.split("=", 1) for part in sas.split("&"))
    assert fields["sr"] == "c" and fields["sp"] == "racwdl" and "sig" in fields
    assert KEY not in sas


def test_secrets_are_refused_unless_allowed(tmp_path: Path) -> None:
    manifest = SnapshotManifest(
        root=tmp_path, files=[".env", "conf/base/catalog.yml", "conf/local/credentials.yml"]
    )
    with pytest.raises(
        SubmitCheckError, match=r"2 file\(s\) .*: \.env, conf/local/credentials\.yml"
    ):
        check_no_secrets(manifest, allowed=False)
    check_no_secrets(manifest, allowed=True)


@pytest.mark.parametrize(
    ("path", "secret"),
    [
        ("conf/base/Credentials.yml", True),
        ("CREDENTIALS.json", True),
        ("src/.env.local", True),
        ("deploy/prod.env", True),
        ("keys/server.PEM", True),
        ("home/.ssh/id_rsa", True),
        ("Conf/Local/parameters.yml", True),
        ("conf/base/parameters.yml", False),
        ("src/demo/environment.py", False),
        ("docs/envelope.md", False),
    ],
)
def test_secret_lookalikes_whatever_their_case_or_folder(path: str, secret: bool) -> None:
    assert looks_like_secret(path) is secret


def test_on_job_scheduled_must_import() -> None:
    assert load_callback("json:dumps") is json.dumps
    assert load_callback(None) is None
    with pytest.raises(SubmitCheckError, match="cannot import it"):
        load_callback("no_such_module_xyz:hook")
    # A relative module name used to escape as a TypeError traceback.
    with pytest.raises(SubmitCheckError, match=r"cannot import it \(.*relative import"):
        load_callback("..relative:hook")


@pytest.mark.parametrize(
    ("total", "text"),
    [
        (0, "0 bytes"),
        (999, "999 bytes"),
        (1000, "1.0 kB"),
        (2_500_000, "2.5 MB"),
        (7 * 10**12, "7000.0 GB"),
    ],
)
def test_upload_sizes_read_in_the_largest_unit_under_a_thousand(total: int, text: str) -> None:
    from kedro_azureml.commands.submit import _size

    assert _size(total) == text
