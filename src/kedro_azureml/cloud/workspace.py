"""The process-wide connection a dataset uses when it runs outside Azure ML.

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
from typing import TYPE_CHECKING

from kedro_azureml.config import Workspace

if TYPE_CHECKING:
    from kedro_azureml.cloud.client import WorkspaceConnection


_connections: dict[tuple[Workspace, str | None, str | None], WorkspaceConnection] = {}
_lock = threading.Lock()


def connect(workspace: Workspace) -> WorkspaceConnection:
    """The process-wide connection to ``workspace``, made (and signed in) on first use.

    A browser sign-in is never offered: a pipeline run has nobody to click through it.
    """
    from kedro_azureml.cloud.client import (
        ALLOW_TEST_ENDPOINT_ENV,
        TEST_ENDPOINT_ENV,
        connect_workspace,
    )

    key = (workspace, os.environ.get(TEST_ENDPOINT_ENV), os.environ.get(ALLOW_TEST_ENDPOINT_ENV))
    with _lock:
        if key not in _connections:
            _connections[key] = connect_workspace(workspace, interactive=False)
        return _connections[key]
