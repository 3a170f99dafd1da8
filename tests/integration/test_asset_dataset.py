"""AzureMLAssetDataset's local download path against the Azure ML REST stand-in and Azurite.

The dataset gets a real ``MLClient`` from ``kedro_azureml.cloud.client``, pointed at the stand-in
through its test-only seam (``KEDRO_AZUREML_TEST_ENDPOINT`` + ``KEDRO_AZUREML_ALLOW_TEST_ENDPOINT``,
with ``blob_endpoints`` for Azurite); the asset's blobs live in Azurite, in the container of the
stand-in's ``workspaceblobstore`` datastore.
"""

from __future__ import annotations

import io
import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pytest

from kedro_azureml.cloud.assets import WorkspaceAssets
from kedro_azureml.config import Workspace
from kedro_azureml.contract.assets import AssetSpec
from kedro_azureml.datasets import AzureMLAssetDataset, resolve_asset_versions
from tests.support.azurite import HangUpServer, free_port
from tests.support.seam import write_seam

if TYPE_CHECKING:
    from azure.ai.ml import MLClient

    from tests.support.aml_standin import AmlStandin
    from tests.support.azurite import AzuriteBlob

warnings.filterwarnings("ignore", message=".*experimental.*")

V1 = pd.DataFrame({"company": ["a", "b"], "rating": [0.5, 0.75]})
V2 = pd.DataFrame({"company": ["a", "b", "c"], "rating": [0.5, 0.75, 1.0]})
# label="latest": the SDK reads the asset's latestVersion, then that version.
LATEST_CALLS = ["GET {ws}/data/companies", "GET {ws}/data/companies/versions/2"]
DOWNLOAD_CALLS = [
    "GET {ws}/datastores/workspaceblobstore",
    "POST {ws}/datastores/workspaceblobstore/listSecrets",
]


def _csv(frame: pd.DataFrame) -> bytes:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().encode()


@pytest.fixture
def blobstore(aml_standin: AmlStandin, azurite: AzuriteBlob) -> Iterator[Any]:
    """The Azurite container behind the stand-in's ``workspaceblobstore``, emptied after."""
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    container = service.get_container_client(f"azureml-blobstore-{aml_standin.workspace_guid}")
    if not container.exists():
        container.create_container()
    yield container
    for blob in list(container.list_blobs()):
        container.delete_blob(blob.name)


@pytest.fixture
def test_seam(
    aml_standin: AmlStandin,
    azurite: AzuriteBlob,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    seam = tmp_path_factory.mktemp("seam") / "standin.json"
    for name, value in write_seam(seam, aml_standin, azurite=azurite).items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def companies(
    aml_standin: AmlStandin, ml_client: MLClient, blobstore: Any, test_seam: None
) -> AmlStandin:
    """Asset ``companies``: version 1 and (latest) version 2, each a folder of two blobs."""
    from azure.ai.ml.entities import Data

    for version, frame in (("1", V1), ("2", V2)):
        prefix = f"kedro/companies/v{version}"
        blobstore.upload_blob(f"{prefix}/companies.csv", _csv(frame))
        blobstore.upload_blob(f"{prefix}/docs/README.md", f"version {version}\n".encode())
        ml_client.data.create_or_update(
            Data(
                name="companies",
                version=version,
                path=f"azureml://datastores/workspaceblobstore/paths/{prefix}/",
                type="uri_folder",
            )
        )
    aml_standin.requests.clear()
    return aml_standin


def _dataset(root: Path, aml_standin: AmlStandin, **kwargs: Any) -> AzureMLAssetDataset:
    kwargs.setdefault("azureml_dataset", "companies")
    kwargs.setdefault("dataset", {"type": "pandas.CSVDataset", "filepath": "companies.csv"})
    workspace = {
        "subscription_id": aml_standin.subscription_id,
        "resource_group": aml_standin.resource_group,
        "workspace_name": aml_standin.workspace_name,
    }
    return AzureMLAssetDataset(root_dir=str(root), workspace=workspace, **kwargs)


def test_latest_is_downloaded_once_then_read_from_the_cache(
    companies: AmlStandin, blobstore: Any, tmp_path: Path
) -> None:
    dataset = _dataset(tmp_path, companies)

    pd.testing.assert_frame_equal(dataset.load(), V2)

    assert companies.calls() == [*LATEST_CALLS, *DOWNLOAD_CALLS]
    cached = tmp_path / "companies" / "2"
    assert sorted(p.relative_to(cached).as_posix() for p in cached.rglob("*") if p.is_file()) == [
        "companies.csv",
        "docs/README.md",
    ]
    assert (cached / "docs" / "README.md").read_text() == "version 2\n"
    assert not [p for p in (tmp_path / "companies").iterdir() if p.name.startswith(".")]
    assert dataset._describe()["azureml_version"] == "2"

    # Remove the blobs: any further download would fail, so a success reads the cache.
    for blob in list(blobstore.list_blobs()):
        blobstore.delete_blob(blob.name)
    companies.requests.clear()

    pd.testing.assert_frame_equal(dataset.load(), V2)
    pd.testing.assert_frame_equal(_dataset(tmp_path, companies, azureml_version="2").load(), V2)
    assert dataset.exists()
    assert companies.calls() == []


def test_pinned_version_is_one_version_get(companies: AmlStandin, tmp_path: Path) -> None:
    dataset = _dataset(tmp_path, companies, azureml_version="1")

    pd.testing.assert_frame_equal(dataset.load(), V1)

    assert companies.calls() == ["GET {ws}/data/companies/versions/1", *DOWNLOAD_CALLS]
    assert (tmp_path / "companies" / "1" / "docs" / "README.md").read_text() == "version 1\n"
    assert not (tmp_path / "companies" / "2").exists()


def _register_ratings_file(ml_client: MLClient, blobstore: Any) -> None:
    """Version 5 of a uri_file asset, ``ratings``: one CSV in the workspace blob store."""
    from azure.ai.ml.entities import Data

    blobstore.upload_blob("kedro/ratings/2024.csv", _csv(V1))
    ml_client.data.create_or_update(
        Data(
            name="ratings",
            version="5",
            path="azureml://datastores/workspaceblobstore/paths/kedro/ratings/2024.csv",
            type="uri_file",
        )
    )


def test_uri_file_asset(
    companies: AmlStandin, ml_client: MLClient, blobstore: Any, tmp_path: Path
) -> None:
    _register_ratings_file(ml_client, blobstore)
    dataset = _dataset(
        tmp_path,
        companies,
        azureml_dataset="ratings",
        azureml_type="uri_file",
        dataset={"type": "pandas.CSVDataset", "filepath": "some/dir/ratings.csv"},
    )

    pd.testing.assert_frame_equal(dataset.load(), V1)

    assert [p.name for p in (tmp_path / "ratings" / "5").iterdir()] == ["ratings.csv"]


def test_declared_type_must_match_the_asset(companies: AmlStandin, tmp_path: Path) -> None:
    from kedro.io import DatasetError

    dataset = _dataset(tmp_path, companies, azureml_type="uri_file")

    with pytest.raises(DatasetError, match=r"companies:2 is a uri_folder"):
        dataset.load()
    assert not (tmp_path / "companies").exists()


def test_missing_asset(companies: AmlStandin, tmp_path: Path) -> None:
    from kedro.io import DatasetError

    dataset = _dataset(tmp_path, companies, azureml_version="9")

    assert not dataset.exists()
    with pytest.raises(DatasetError, match="companies"):
        dataset.load()
    assert companies.calls() == ["GET {ws}/data/companies/versions/9"] * 2


def test_resolve_asset_versions_looks_latest_up_once(
    companies: AmlStandin, ml_client: MLClient, tmp_path: Path
) -> None:
    datasets = {
        "companies_raw": _dataset(tmp_path, companies),
        "companies_again": _dataset(tmp_path, companies, azureml_version="latest"),
        "companies_v1": _dataset(tmp_path, companies, azureml_version="1"),
    }

    versions = resolve_asset_versions(ml_client, datasets)

    assert versions == {"companies_again": "2", "companies_raw": "2", "companies_v1": "1"}
    assert companies.calls() == LATEST_CALLS
    pinned = datasets["companies_raw"].with_version(versions["companies_raw"])
    assert pinned.asset.input_path == "azureml:companies:2"


@pytest.mark.parametrize(
    ("asset", "expected"),
    [
        (AssetSpec("companies", "uri_folder", "1"), ""),
        (AssetSpec("companies", "uri_folder"), ""),
        (AssetSpec("ratings", "uri_file", "5"), "2024.csv"),
    ],
    ids=["folder", "folder-latest", "file"],
)
def test_fetch_asset_for_a_local_job_input(
    companies: AmlStandin,
    ml_client: MLClient,
    blobstore: Any,
    tmp_path: Path,
    asset: AssetSpec,
    expected: str,
) -> None:
    _register_ratings_file(ml_client, blobstore)
    assets = WorkspaceAssets(
        Workspace(companies.subscription_id, companies.resource_group, companies.workspace_name)
    )
    destination = tmp_path / "inputs" / "port"

    mounted = assets.fetch(asset, destination)

    assert mounted == (destination / expected if expected else destination)
    frame = pd.read_csv(mounted if expected else mounted / "companies.csv")
    pd.testing.assert_frame_equal(frame, V1 if asset.version else V2)


class _Attempts:
    """Counts the storage SDK's requests to one port: attempts, not time."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, port: int) -> None:
        from azure.core.pipeline.transport import RequestsTransport

        self.count = 0
        send = RequestsTransport.send

        def counted(transport: Any, request: Any, **kwargs: Any) -> Any:
            if f":{port}/" in request.url:
                self.count += 1
            return send(transport, request, **kwargs)

        monkeypatch.setattr(RequestsTransport, "send", counted)


def _blobs_at(
    endpoint: str,
    aml_standin: AmlStandin,
    azurite: AzuriteBlob,
    monkeypatch: pytest.MonkeyPatch,
    folder: Path,
) -> None:
    """The seam again, with the workspace's blob store at ``endpoint``."""
    seam = folder / "standin-unreachable.json"
    variables = write_seam(seam, aml_standin, azurite=azurite)
    settings = json.loads(seam.read_text())
    settings["blob_endpoints"] = {azurite.account_name: f"{endpoint}/{azurite.account_name}"}
    seam.write_text(json.dumps(settings))
    for name, value in variables.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize("kind", ["refused", "hangs-up"])
def test_an_unreachable_datastore_fails_at_once_naming_the_asset(
    companies: AmlStandin,
    azurite: AzuriteBlob,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    kind: str,
) -> None:
    """The SDK's default is 4 attempts, 15 s or more apart: about 90 s before any message."""
    from kedro.io import DatasetError

    from kedro_azureml.cloud.storage_policy import StorageUnreachable

    server = HangUpServer() if kind == "hangs-up" else None
    port = server.port if server else free_port()
    attempts = _Attempts(monkeypatch, port)
    _blobs_at(f"http://127.0.0.1:{port}", companies, azurite, monkeypatch, tmp_path)
    assets = WorkspaceAssets(
        Workspace(companies.subscription_id, companies.resource_group, companies.workspace_name)
    )
    try:
        with pytest.raises(StorageUnreachable) as caught:
            assets.fetch(AssetSpec("companies", "uri_folder", "1"), tmp_path / "inputs" / "port")
        with pytest.raises(DatasetError) as loaded:
            _dataset(tmp_path / "cache", companies, azureml_version="2").load()
    finally:
        if server:
            server.close()

    message = str(caught.value)
    assert message.startswith(
        f"Cannot download data asset companies:1: storage account '{azurite.account_name}' "
        "(datastore workspaceblobstore) cannot be reached: "
    )
    if kind == "refused":
        assert "the connection was refused" in message
    assert caught.value.__cause__ is None  # one message, not the SDK's chain
    assert "Cannot download data asset companies:2" in str(loaded.value)
    # One attempt each when refused; a connection that hangs up is tried twice (one retry).
    assert attempts.count == (2 if kind == "refused" else 4)
    if server:
        assert server.connections == 4
    assert not (tmp_path / "inputs" / "port").exists()
    assert not list((tmp_path / "inputs").glob(".*partial*"))
