"""Azure ML v2 data assets: how a local run finds and downloads one.

What the compiler binds (``AssetSpec``) is pure and lives in :mod:`kedro_azureml.contract.assets`.
``download_asset`` talks to the workspace through a
:class:`~kedro_azureml.cloud.client.WorkspaceConnection` (see :mod:`kedro_azureml.cloud.workspace`).
"""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kedro.io import DatasetError

from kedro_azureml.cloud.storage_policy import (
    PROBE_POLICY,
    TRANSFER_POLICY,
    StorageUnreachable,
    unreachable_reason,
)
from kedro_azureml.contract.assets import LATEST, AssetSpec
from kedro_azureml.contract.storage_paths import DATASTORE_URI, redact_urls

if TYPE_CHECKING:
    from kedro_azureml.cloud.client import WorkspaceConnection
    from kedro_azureml.config import Workspace

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AssetLocation:
    """A resolved asset version and where its files are in a datastore."""

    name: str
    version: str
    type: str
    uri: str


def locate_asset(connection: WorkspaceConnection, spec: AssetSpec) -> AssetLocation:
    """One ``GET`` of the asset version (or of the asset, for the latest version)."""
    if spec.version is None:
        data = connection.ml_client.data.get(spec.name, label=LATEST)
    else:
        data = connection.ml_client.data.get(spec.name, version=spec.version)
    if data.type != spec.type:
        raise DatasetError(
            f"Data asset {spec.name}:{data.version} is a {data.type}, but the catalog declares "
            f"azureml_type: {spec.type}."
        )
    return AssetLocation(spec.name, str(data.version), str(data.type), str(data.path))


def download_asset(
    connection: WorkspaceConnection, location: AssetLocation, destination: Path, file_name: str
) -> Path:
    """Download the asset's files into ``destination``, which appears complete or not at all.

    A ``uri_folder`` keeps its layout under ``destination``; a ``uri_file`` is written as
    ``destination/file_name``.
    """
    match = DATASTORE_URI.match(location.uri)
    if match is None:
        raise DatasetError(
            f"Data asset {location.name}:{location.version} lives at {location.uri}; only "
            "assets on a workspace datastore (azureml://datastores/...) can be downloaded."
        )
    access = _datastore_access(connection, match["datastore"])
    path = match["path"]
    with _storage_errors(location, access):
        _probe(access, location, path)
        _download_files(access.client(TRANSFER_POLICY), location, path, destination, file_name)
    logger.info("Downloaded data asset %s:%s to %s", location.name, location.version, destination)
    return destination


def _download_files(
    container: Any, location: AssetLocation, path: str, destination: Path, file_name: str
) -> None:
    partial = destination.with_name(f".{destination.name}.partial-{uuid.uuid4().hex}")
    partial.mkdir(parents=True)
    try:
        if location.type == "uri_file":
            _download_blob(container, path, partial / file_name)
        else:
            prefix = f"{path.rstrip('/')}/" if path.strip("/") else ""
            count = 0
            for blob in container.list_blobs(name_starts_with=prefix):
                relative = blob.name[len(prefix) :]
                if not relative or relative.endswith("/"):
                    continue  # the folder itself, or a directory marker
                target = partial / relative
                if not is_within(target, partial):
                    raise DatasetError(f"Blob {blob.name} would be written outside {destination}.")
                _download_blob(container, blob.name, target)
                count += 1
            if count == 0:
                raise DatasetError(
                    f"Data asset {location.name}:{location.version} has no files under "
                    f"{location.uri}."
                )
        try:
            os.replace(partial, destination)
        except OSError:
            if not destination.is_dir():  # not another process that finished first
                raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)


@dataclass(frozen=True)
class WorkspaceAssets:
    """The data assets of one workspace, as ``run --local`` mounts them for its steps.

    It is the local runner's ``AssetSource``: the command that starts a local run makes one,
    so the runner itself never imports anything that talks to Azure.
    """

    workspace: Workspace

    def latest_version(self, spec: AssetSpec) -> str:
        """The version ``@latest`` names right now, so a whole run can read that one version."""
        from kedro_azureml.cloud.workspace import connect

        return locate_asset(connect(self.workspace), spec).version

    def fetch(self, spec: AssetSpec, destination: Path) -> Path:
        """Download a job input ``azureml:<name>:<version>`` for a local run of the job.

        Returns what Azure ML would mount for ``${{inputs.x}}``: ``destination`` itself for a
        ``uri_folder``, the file inside it for a ``uri_file``. ``destination`` must not exist.
        """
        from kedro_azureml.cloud.workspace import connect

        connection = connect(self.workspace)
        location = locate_asset(connection, spec)
        file_name = location.uri.rstrip("/").rsplit("/", 1)[-1]
        download_asset(connection, location, destination, file_name)
        return destination / file_name if location.type == "uri_file" else destination


@dataclass(frozen=True)
class _DatastoreAccess:
    """What reading a datastore's container takes; clients are made per retry policy."""

    datastore: str
    account: str
    url: str
    container: str
    credential: Any = field(repr=False)  # a key or a SAS: never in a message or a log

    def client(self, policy: dict[str, Any]) -> Any:
        from azure.storage.blob import ContainerClient

        return ContainerClient(self.url, self.container, credential=self.credential, **policy)


def _datastore_access(connection: WorkspaceConnection, datastore_name: str) -> _DatastoreAccess:
    datastore = connection.ml_client.datastores.get(datastore_name, include_secrets=True)
    account = datastore.account_name
    container = getattr(datastore, "container_name", None) or getattr(datastore, "filesystem", None)
    if not container:
        raise DatasetError(
            f"Datastore {datastore_name} is a {datastore.type}: only Azure Blob and ADLS Gen2 "
            "datastores can be downloaded from."
        )
    url = connection.blob_account_url(account, datastore.endpoint, datastore.protocol or "https")
    secrets = datastore.credentials
    credential: Any
    if getattr(secrets, "account_key", None):
        credential = {"account_name": account, "account_key": secrets.account_key}
    elif getattr(secrets, "sas_token", None):
        credential = secrets.sas_token
    else:  # identity-based datastore: the caller's own identity reads the storage
        credential = connection.credential
    return _DatastoreAccess(datastore_name, account, url, container, credential)


def _probe(access: _DatastoreAccess, location: AssetLocation, path: str) -> None:
    """One request that fails at once when the account cannot be reached (``PROBE_POLICY``):
    the file's properties, or the folder's first blob; as little as the credential may read."""
    container = access.client(PROBE_POLICY)
    if location.type == "uri_file":
        container.get_blob_client(path).get_blob_properties()
    else:
        prefix = f"{path.rstrip('/')}/" if path.strip("/") else ""
        pages = container.list_blobs(name_starts_with=prefix, results_per_page=1).by_page()
        next(iter(pages), None)


@contextmanager
def _storage_errors(location: AssetLocation, access: _DatastoreAccess) -> Iterator[None]:
    """The storage SDK's errors as one message naming the asset, the account and the cause."""
    from azure.core.exceptions import (
        ClientAuthenticationError,
        HttpResponseError,
        ResourceNotFoundError,
        ServiceRequestError,
        ServiceResponseError,
    )

    asset = f"data asset {location.name}:{location.version}"
    where = f"storage account '{access.account}' (datastore {access.datastore})"
    try:
        yield
    except (ServiceRequestError, ServiceResponseError) as exc:
        raise StorageUnreachable(
            f"Cannot download {asset}: {where} cannot be reached: {unreachable_reason(exc)}. "
            "Check this machine's network, proxy and the account's firewall."
        ) from None
    except ResourceNotFoundError as exc:
        raise DatasetError(
            f"Cannot download {asset}: {location.uri} is not in {where} "
            f"({redact_urls(exc.reason or exc.message)}): its files were moved or deleted."
        ) from None
    except ClientAuthenticationError as exc:
        raise DatasetError(
            f"Cannot download {asset}: {where} refused the datastore's credentials "
            f"({redact_urls(exc.reason or exc.message)}). Check the datastore's credentials, or "
            "your access to the account (Storage Blob Data Reader) for an identity-based one."
        ) from None
    except HttpResponseError as exc:
        raise DatasetError(
            f"Cannot download {asset}: {where} answered {exc.status_code} "
            f"({redact_urls(str(exc.reason or exc.message))})."
        ) from None


def _download_blob(container: Any, blob_name: str, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as stream:
        container.download_blob(blob_name).readinto(stream)


def is_within(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True
