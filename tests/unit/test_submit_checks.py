"""The secret checks of `kedro azureml run` that need no project: keys and option values."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from kedro_azureml.commands.job_secrets import (
    STORAGE_KEY_LABEL,
    SecretInJobError,
    check_options_hold_no_secret,
    known_secrets,
)
from kedro_azureml.commands.submit import SubmitCheckError, storage_account_key
from kedro_azureml.compiler.render import CompileOptions
from kedro_azureml.config import TemporaryStorageConfig
from kedro_azureml.errors import KedroAzureMLError

STORAGE = TemporaryStorageConfig(account_name="acct", container="temp")
KEY = base64.b64encode(bytes(range(64))).decode()


class _Console:
    def print(self, *args: object, **kwargs: object) -> None:
        pass


@pytest.mark.parametrize("bad", ["not-a-key!", KEY[:-1], f'"{KEY}"', "clé"])
def test_a_malformed_key_names_its_source_not_its_value(
    monkeypatch: pytest.MonkeyPatch, bad: str
) -> None:
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_KEY", bad)
    with pytest.raises(SubmitCheckError) as raised:
        storage_account_key(STORAGE, console=_Console(), interactive=False)
    message = str(raised.value)
    assert message.startswith(
        "Environment variable AZURE_STORAGE_ACCOUNT_KEY is not a storage account key"
    )
    assert bad not in message

    monkeypatch.delenv("AZURE_STORAGE_ACCOUNT_KEY")
    with pytest.raises(SubmitCheckError, match=r"^The key typed at the prompt is not a storage"):
        storage_account_key(STORAGE, console=_Console(), interactive=True, prompt=lambda _: bad)


def test_run_local_checks_the_key_before_connecting(monkeypatch: pytest.MonkeyPatch) -> None:
    """adlfs only warns about a key it cannot use; every step would then fail instead."""
    from kedro_azureml.cloud.blob_folders import open_blob_container

    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING", raising=False)
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_KEY", "not-a-key!")
    with pytest.raises(KedroAzureMLError, match="AZURE_STORAGE_ACCOUNT_KEY is not a storage"):
        open_blob_container("acct", "temp")


def test_known_secrets_name_their_source_once(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AZURE_STORAGE_CONNECTION_STRING", "AZURE_CLIENT_SECRET", "GITHUB_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    other_key = base64.b64encode(bytes(range(1, 65))).decode()
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_KEY", KEY)
    monkeypatch.setenv(
        "AZURE_STORAGE_CONNECTION_STRING", f"AccountName=a;AccountKey={other_key};EndpointSuffix=x"
    )
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "short")  # too short to look for anywhere
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_" + "x1" * 18)

    known = known_secrets(KEY)

    assert known == {
        STORAGE_KEY_LABEL: KEY,  # the same value as $AZURE_STORAGE_ACCOUNT_KEY: listed once
        "The value of $AZURE_STORAGE_CONNECTION_STRING": known[
            "The value of $AZURE_STORAGE_CONNECTION_STRING"
        ],
        "The value of $GITHUB_TOKEN": "ghp_" + "x1" * 18,
        "The AccountKey in $AZURE_STORAGE_CONNECTION_STRING": other_key,
    }


def test_option_values_holding_a_known_secret_are_refused() -> None:
    known = {STORAGE_KEY_LABEL: KEY, "The value of $AZURE_CLIENT_SECRET": "sp-secret-0123"}
    options = CompileOptions(
        params={"io": {"targets": ["a", f"key={KEY}"]}, "plain": 3},
        env_vars={"SP": "sp-secret-0123", "OK": "fine"},
    )
    with pytest.raises(SecretInJobError) as raised:
        check_options_hold_no_secret(options, known)
    message = str(raised.value)
    assert "  - --env-var SP: the value of $AZURE_CLIENT_SECRET\n" in message
    assert "  - --params io.targets[1]: the storage account key\n" in message
    assert KEY not in message and "sp-secret-0123" not in message
    check_options_hold_no_secret(CompileOptions(env_vars={"OK": "fine"}), known)


def test_allow_secrets_upload_overrides_shapes_but_never_known_values(tmp_path: Path) -> None:
    from kedro_azureml.commands.submit import check_snapshot_contents
    from kedro_azureml.project.secret_scan import Allowlist
    from kedro_azureml.project.snapshot import scan_code_directory

    (tmp_path / "settings.py").write_text('AWS = "AKIAIOSFODNN7EXAMPLE"\n')
    manifest = scan_code_directory(tmp_path)
    with pytest.raises(SubmitCheckError, match=r"settings\.py:1: AWS access key ID"):
        check_snapshot_contents(manifest, {}, Allowlist(), allowed=False)
    check_snapshot_contents(manifest, {}, Allowlist(), allowed=True)
    with pytest.raises(SubmitCheckError, match=r"The AWS key is written in settings\.py"):
        check_snapshot_contents(
            manifest, {"The AWS key": "AKIAIOSFODNN7EXAMPLE"}, Allowlist(), allowed=True
        )
