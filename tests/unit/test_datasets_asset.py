from __future__ import annotations

import doctest
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from kedro.io import DataCatalog, DatasetError, Version

from kedro_azureml.cloud.client import ALLOW_TEST_ENDPOINT_ENV, TEST_ENDPOINT_ENV
from kedro_azureml.config import Workspace
from kedro_azureml.contract.assets import AssetSpec, asset_spec
from kedro_azureml.datasets import (
    AzureMLAssetDataset,
    asset_dataset,
    resolve_asset_versions,
)
from kedro_azureml.errors import KedroAzureMLError

FRAME = pd.DataFrame({"x": [1, 2, 3], "y": ["a", "b", "c"]})
CSV = {"type": "pandas.CSVDataset", "filepath": "nested/companies.csv"}
WORKSPACE = {"subscription_id": "sub", "resource_group": "rg", "workspace_name": "ws"}


def _dataset(root: Path, **kwargs: Any) -> AzureMLAssetDataset:
    kwargs.setdefault("azureml_dataset", "companies")
    kwargs.setdefault("dataset", CSV)
    return AzureMLAssetDataset(root_dir=str(root), **kwargs)


def _cache(root: Path, version: str, relative: str = "nested/companies.csv") -> Path:
    path = root / "companies" / version / relative
    path.parent.mkdir(parents=True)
    FRAME.to_csv(path, index=False)
    return path


def test_local_save_then_load_reads_the_local_copy(tmp_path: Path) -> None:
    dataset = _dataset(tmp_path)

    dataset.save(FRAME)

    assert dataset.path == tmp_path / "companies" / "local" / "nested" / "companies.csv"
    assert dataset.path.is_file()
    assert dataset.exists()
    pd.testing.assert_frame_equal(dataset.load(), FRAME)


def test_pinned_version_loads_from_cache_without_a_workspace(tmp_path: Path) -> None:
    _cache(tmp_path, "7")
    dataset = _dataset(tmp_path, azureml_version=7)

    assert dataset.exists()
    assert dataset.path == tmp_path / "companies" / "7" / "nested" / "companies.csv"
    pd.testing.assert_frame_equal(dataset.load(), FRAME)


def test_download_needs_a_workspace(tmp_path: Path) -> None:
    dataset = _dataset(tmp_path, azureml_version="2")

    assert not dataset.exists()
    with pytest.raises(DatasetError, match="no Azure ML workspace"):
        dataset.load()


def test_with_folder_reads_and_writes_the_mounted_folder(tmp_path: Path) -> None:
    mounted = _dataset(tmp_path / "data").with_folder(str(tmp_path / "mnt"))

    mounted.save(FRAME)

    assert (tmp_path / "mnt" / "nested" / "companies.csv").is_file()
    assert mounted.exists()
    pd.testing.assert_frame_equal(mounted.load(), FRAME)
    assert not (tmp_path / "data").exists()
    assert mounted._describe()["mounted"] == str(tmp_path / "mnt")


@pytest.mark.parametrize("mount_is_file", [True, False], ids=["mounted-file", "mounted-folder"])
def test_uri_file_mount(tmp_path: Path, mount_is_file: bool) -> None:
    dataset = _dataset(tmp_path / "data", azureml_type="uri_file")
    if mount_is_file:
        mount = tmp_path / "input.csv"
        FRAME.to_csv(mount, index=False)
        expected = mount
    else:
        mount = tmp_path / "out"
        expected = mount / "companies.csv"  # only the file name of filepath
        dataset.with_folder(str(mount)).save(FRAME)

    bound = dataset.with_folder(str(mount))

    assert bound.path == expected
    pd.testing.assert_frame_equal(bound.load(), FRAME)


@pytest.mark.parametrize(
    ("azureml_version", "load_version", "expected"),
    [
        (None, None, None),
        ("latest", None, None),
        (3, None, "3"),
        ("3", "5", "5"),
        (None, "5", "5"),
        ("3", None, "3"),
    ],
    ids=["default", "latest", "int", "load-wins", "load-only", "catalog"],
)
def test_version_precedence(
    tmp_path: Path, azureml_version: Any, load_version: str | None, expected: str | None
) -> None:
    dataset = _dataset(
        tmp_path, azureml_version=azureml_version, version=Version(load_version, "save-ts")
    )
    config = {"azureml_dataset": "companies", "azureml_version": azureml_version}

    assert dataset.asset == AssetSpec("companies", "uri_folder", expected)
    assert asset_spec(config, load_version) == AssetSpec("companies", "uri_folder", expected)
    assert dataset._describe()["azureml_version"] == (expected or "latest")


def test_with_version_and_with_workspace_copy(tmp_path: Path) -> None:
    dataset = _dataset(tmp_path, workspace=WORKSPACE)

    pinned = dataset.with_version("4")
    other = dataset.with_workspace({**WORKSPACE, "workspace_name": "other"})
    bound = dataset.with_workspace(Workspace("sub2", "rg2", "ws2"))  # as the hook binds it

    assert pinned.asset.version == "4"
    assert dataset.asset.version is None
    assert other._workspace == Workspace("sub", "rg", "other")
    assert pinned._workspace == Workspace("sub", "rg", "ws")
    assert bound._workspace == Workspace("sub2", "rg2", "ws2")


def test_load_versions_reach_the_dataset_through_the_catalog(tmp_path: Path) -> None:
    _cache(tmp_path, "9", "companies.csv")
    catalog = DataCatalog.from_config(
        {
            "companies": {
                "type": "kedro_azureml.datasets.AzureMLAssetDataset",
                "azureml_dataset": "companies",
                "azureml_version": "1",
                "root_dir": str(tmp_path),
                "dataset": {"type": "pandas.CSVDataset", "filepath": "companies.csv"},
            }
        },
        load_versions={"companies": "9"},
    )

    dataset = catalog.get("companies")

    assert isinstance(dataset, AzureMLAssetDataset)
    assert dataset.asset == AssetSpec("companies", "uri_folder", "9")
    pd.testing.assert_frame_equal(catalog.load("companies"), FRAME)


@pytest.mark.parametrize(
    ("spec", "path"),
    [
        (AssetSpec("companies", "uri_folder", "3"), "azureml:companies:3"),
        (AssetSpec("model_input", "uri_file"), "azureml:model_input@latest"),
    ],
    ids=["pinned", "latest"],
)
def test_input_path(spec: AssetSpec, path: str) -> None:
    assert spec.input_path == path


def test_resolve_pinned_versions_needs_no_client(tmp_path: Path) -> None:
    datasets = {
        "a": _dataset(tmp_path, azureml_version="2"),
        "b": AssetSpec("shops", "uri_file", "11"),
    }

    assert resolve_asset_versions(None, datasets) == {"a": "2", "b": "11"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"azureml_type": "mltable"}, "azureml_type must be one of uri_folder, uri_file"),
        ({"azureml_dataset": ""}, "needs a name"),
        ({"azureml_type": "uri_file", "dataset": "pandas.CSVDataset"}, "needs 'filepath'"),
        ({"workspace": {"subscription_id": "s"}}, "missing"),
    ],
    ids=["bad-type", "no-name", "uri-file-without-name", "partial-workspace"],
)
def test_bad_config(tmp_path: Path, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises((DatasetError, KedroAzureMLError), match=message):
        _dataset(tmp_path, **kwargs)


def test_describe(tmp_path: Path) -> None:
    assert _dataset(tmp_path, azureml_version="2")._describe() == {
        "azureml_dataset": "companies",
        "azureml_type": "uri_folder",
        "azureml_version": "2",
        "dataset": "pandas.CSVDataset",
        "root_dir": str(tmp_path),
        "mounted": None,
    }


def _seam(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    seam = tmp_path / "seam.json"
    seam.write_text(text)
    monkeypatch.setenv(TEST_ENDPOINT_ENV, str(seam))
    monkeypatch.setenv(ALLOW_TEST_ENDPOINT_ENV, "1")


@pytest.mark.parametrize(
    "seam",
    [
        {"resource_manager": "https://management.azure.com/"},
        {"resource_manager": "https://127.0.0.1:1/", "blob": "https://acct.blob.core.windows.net"},
    ],
    ids=["remote-cloud", "remote-blob"],
)
def test_test_seam_refuses_anything_but_this_machine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seam: dict[str, str]
) -> None:
    blob = seam.pop("blob", None)
    text = json.dumps(
        {
            "cloud_name": "Nope",
            "cloud_metadata": {**seam, "aml_resource_id": "https://ml.azure.com"},
            "ca_bundle": "ca.pem",
            "credential": "tests.support.credentials:FakeCredential",
            "blob_endpoints": {"acct": blob} if blob else {},
        }
    )
    _seam(tmp_path, monkeypatch, text)
    dataset = _dataset(tmp_path / "data", workspace=WORKSPACE)

    with pytest.raises(DatasetError, match="may only point at this machine") as info:
        dataset.load()
    assert (blob or seam["resource_manager"]) in str(info.value)


def test_test_seam_must_be_valid_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _seam(tmp_path, monkeypatch, "{not json")

    with pytest.raises(DatasetError, match=r"KEDRO_AZUREML_TEST_ENDPOINT=.* is not usable"):
        _dataset(tmp_path / "data", workspace=WORKSPACE).load()


def test_test_seam_needs_its_allow_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _seam(tmp_path, monkeypatch, "{}")
    monkeypatch.delenv(ALLOW_TEST_ENDPOINT_ENV)

    with pytest.raises(DatasetError, match="go together"):
        _dataset(tmp_path / "data", workspace=WORKSPACE).load()


def test_docstring_example_runs(tmp_path: Path) -> None:
    results = doctest.testmod(asset_dataset, extraglobs={"tmp_path": tmp_path}, raise_on_error=True)

    assert results.attempted >= 6
