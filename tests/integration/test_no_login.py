"""Signing in with nothing to sign in with: the real credential chain asks the Azure CLI (a
process), so this lives with the integration tests."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from kedro_azureml.cloud.auth import AuthenticationError, default_credential


def test_no_login_at_all_is_one_quiet_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The real DefaultAzureCredential, with nothing to sign in with: no browser, no noise."""
    for name in list(os.environ):
        if name.startswith(("AZURE_", "IDENTITY_", "MSI_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AZURE_CONFIG_DIR", str(tmp_path))  # no `az login` state
    monkeypatch.setenv("PATH", str(tmp_path))  # and no az, azd or pwsh to ask
    with caplog.at_level(logging.WARNING), pytest.raises(AuthenticationError, match="az login"):
        default_credential(interactive=False)
    assert [r for r in caplog.records if r.name.startswith("azure.identity")] == []
