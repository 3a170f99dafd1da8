"""The test seam file that points kedro-azureml's one MLClient factory at the stand-in."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kedro_azureml.cloud.client import ALLOW_TEST_ENDPOINT_ENV, TEST_ENDPOINT_ENV

FAKE_CREDENTIAL = "tests.support.credentials:FakeCredential"


def write_seam(
    path: Path, standin: Any, *, azurite: Any = None, credential: str = FAKE_CREDENTIAL
) -> dict[str, str]:
    """Write the seam file; returns the two environment variables that switch it on."""
    settings: dict[str, Any] = {
        "cloud_name": standin.cloud_name,
        "cloud_metadata": standin.cloud_metadata,
        "ca_bundle": str(standin.ca_cert_path),
        "credential": credential,
    }
    if azurite is not None:
        settings["blob_endpoints"] = {azurite.account_name: azurite.blob_endpoint}
    path.write_text(json.dumps(settings))
    return {TEST_ENDPOINT_ENV: str(path), ALLOW_TEST_ENDPOINT_ENV: "1"}
