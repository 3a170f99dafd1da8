"""The Azure ML workspace a dataset talks to when it runs outside Azure ML.

Inside an Azure ML step the data is mounted and no client is needed. On a laptop (``kedro run``
or the local runner) an :class:`~kedro_azureml.datasets.AzureMLAssetDataset` downloads its
asset with the ``MLClient`` of :func:`kedro_azureml.cloud.client.connect_workspace` (the only place
that builds one, and the only test seam: ``KEDRO_AZUREML_TEST_ENDPOINT``), and reads the blobs
with ``azure-storage-blob`` using the datastore's own credentials.

Nothing here imports the Azure SDK or the client module until a dataset first downloads, so
importing ``kedro_azureml.datasets`` stays cheap.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kedro_azureml.errors import KedroAzureMLError

if TYPE_CHECKING:
    from kedro_azureml.cloud.client import WorkspaceConnection


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


_connections: dict[tuple[Workspace, str | None, str | None], WorkspaceConnection] = {}
_lock = threading.Lock()


def connect(workspace: Workspace) -> WorkspaceConnection:
    """The process-wide connection to ``workspace``, made (and signed in) on first use.

    A browser sign-in is never offered: a pipeline run has nobody to click through it.
    """
    from kedro_azureml.cloud.client import (
        ALLOW_TEST_ENDPOINT_ENV,
        TEST_ENDPOINT_ENV,
        WorkspaceRef,
        connect_workspace,
    )

    key = (workspace, os.environ.get(TEST_ENDPOINT_ENV), os.environ.get(ALLOW_TEST_ENDPOINT_ENV))
    with _lock:
        if key not in _connections:
            ref = WorkspaceRef(
                workspace.subscription_id, workspace.resource_group, workspace.workspace_name
            )
            _connections[key] = connect_workspace(ref, interactive=False)
        return _connections[key]
