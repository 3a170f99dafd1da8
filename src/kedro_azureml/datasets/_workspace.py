"""The Azure ML workspace a dataset talks to when it runs outside Azure ML.

Inside an Azure ML step the data is mounted and no client is needed. On a laptop (``kedro run``
or the local runner) an :class:`~kedro_azureml.datasets.AzureMLAssetDataset` downloads its
asset with an ``MLClient`` built here, and reads the blobs with ``azure-storage-blob`` using
the datastore's own credentials.

Test seam: when the environment variable ``KEDRO_AZUREML_TEST_CLOUD`` holds a JSON object,
clients are pointed at a local stand-in of the Azure ML REST API instead of Azure::

    {
      "cloud_name": "KedroAzureMLStandin8443",
      "cloud_metadata": {"resource_manager": "https://127.0.0.1:8443/", ...},
      "ca_bundle": "/tmp/standin-ca.pem",
      "credential": "tests.support.credentials:FakeCredential",
      "blob_endpoints": {"devstoreaccount1": "http://127.0.0.1:10000/devstoreaccount1"}
    }

``credential`` names a zero-argument callable (``module:attribute``) that returns an Azure
credential; ``blob_endpoints`` maps storage account names to their blob service URL. The seam
cannot reach a real service by accident: every URL in it must point at 127.0.0.1, ::1 or
localhost, or the client is refused. It is meant for this project's tests only.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from kedro_azureml.errors import KedroAzureMLError

logger = logging.getLogger(__name__)

TEST_CLOUD_ENV = "KEDRO_AZUREML_TEST_CLOUD"
_LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")
# Cloud metadata keys that are resource identifiers or host suffixes, not URLs to call.
_NOT_CALLED = ("aml_resource_id", "storage_endpoint")


@dataclass(frozen=True)
class Workspace:
    """Where an Azure ML workspace lives: the three names ``MLClient`` needs."""

    subscription_id: str
    resource_group: str
    workspace_name: str

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Workspace:
        """Read ``subscription_id``, ``resource_group`` and ``workspace_name``.

        ``resource_group_name`` is accepted for ``resource_group``, as ``MLClient`` spells it.
        """
        values = dict(data)
        if "resource_group" not in values and "resource_group_name" in values:
            values["resource_group"] = values.pop("resource_group_name")
        missing = [
            k for k in ("subscription_id", "resource_group", "workspace_name") if not values.get(k)
        ]
        unknown = sorted(set(values) - {"subscription_id", "resource_group", "workspace_name"})
        if missing or unknown:
            raise KedroAzureMLError(
                "An Azure ML workspace needs exactly subscription_id, resource_group and "
                f"workspace_name (missing: {missing or 'none'}, unknown: {unknown or 'none'})."
            )
        return cls(
            str(values["subscription_id"]),
            str(values["resource_group"]),
            str(values["workspace_name"]),
        )


@dataclass
class WorkspaceConnection:
    """An ``MLClient`` for one workspace, plus what is needed to read its storage."""

    ml_client: Any
    credential: Any
    blob_endpoints: dict[str, str] = field(default_factory=dict)

    def blob_account_url(self, account_name: str, endpoint: str, protocol: str) -> str:
        override = self.blob_endpoints.get(account_name)
        return override or f"{protocol}://{account_name}.blob.{endpoint}"


@dataclass(frozen=True)
class _TestCloud:
    cloud_name: str
    cloud_metadata: dict[str, str]
    ca_bundle: str
    credential: str
    blob_endpoints: dict[str, str]

    @classmethod
    def from_env(cls) -> _TestCloud | None:
        raw = os.environ.get(TEST_CLOUD_ENV)
        if not raw:
            return None
        try:
            data = json.loads(raw)
            cloud = cls(
                cloud_name=str(data["cloud_name"]),
                cloud_metadata={str(k): str(v) for k, v in data["cloud_metadata"].items()},
                ca_bundle=str(data["ca_bundle"]),
                credential=str(data["credential"]),
                blob_endpoints={str(k): str(v) for k, v in data.get("blob_endpoints", {}).items()},
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise KedroAzureMLError(f"{TEST_CLOUD_ENV} is not a valid test cloud: {exc}") from exc
        urls = [v for k, v in cloud.cloud_metadata.items() if k not in _NOT_CALLED]
        urls += list(cloud.blob_endpoints.values())
        remote = [url for url in urls if urlsplit(url).hostname not in _LOOPBACK_HOSTS]
        if remote or not urls:
            raise KedroAzureMLError(
                f"{TEST_CLOUD_ENV} may only point at this machine (127.0.0.1, ::1, localhost); "
                f"it names {remote or 'no URL'}. Unset it to use Azure."
            )
        return cloud

    def make_credential(self) -> Any:
        module_name, _, attribute = self.credential.partition(":")
        factory = getattr(importlib.import_module(module_name), attribute)
        return factory()


_connections: dict[tuple[Workspace, str], WorkspaceConnection] = {}
_lock = threading.Lock()


def connect(workspace: Workspace) -> WorkspaceConnection:
    """The process-wide connection to ``workspace``, made on first use."""
    seam = os.environ.get(TEST_CLOUD_ENV, "")
    with _lock:
        key = (workspace, seam)
        if key not in _connections:
            _connections[key] = _make_connection(workspace)
        return _connections[key]


def _make_connection(workspace: Workspace) -> WorkspaceConnection:
    import warnings

    test_cloud = _TestCloud.from_env()  # validated before the slow SDK import
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*experimental.*")
        from azure.ai.ml import MLClient

    if test_cloud is None:
        from azure.identity import DefaultAzureCredential

        credential = DefaultAzureCredential()
        client = MLClient(
            credential,
            subscription_id=workspace.subscription_id,
            resource_group_name=workspace.resource_group,
            workspace_name=workspace.workspace_name,
        )
        return WorkspaceConnection(client, credential)
    logger.warning("Using the local test cloud from %s, not Azure.", TEST_CLOUD_ENV)
    credential = test_cloud.make_credential()
    client = MLClient(
        credential,
        subscription_id=workspace.subscription_id,
        resource_group_name=workspace.resource_group,
        workspace_name=workspace.workspace_name,
        cloud=test_cloud.cloud_name,
        cloud_metadata=test_cloud.cloud_metadata,
        connection_verify=test_cloud.ca_bundle,
        enable_telemetry=False,
        show_progress=False,
        retry_total=0,
    )
    return WorkspaceConnection(client, credential, dict(test_cloud.blob_endpoints))
