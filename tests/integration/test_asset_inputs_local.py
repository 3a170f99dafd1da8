"""run --local of a job whose input is a registered Azure ML data asset (azureml:name:version).

The local runner downloads the asset version through the real SDK from the REST stand-in and
Azurite, and the step reads the folder as it would read Azure ML's mount.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from azure.storage.blob import BlobServiceClient

from kedro_azureml.step.serialization import load_object
from tests.support.kedro_projects import REPO, kedro, last_run
from tests.support.seam import write_seam

PIPELINE = """
from kedro.pipeline import Pipeline, node, pipeline


def count(companies):
    return {"rows": int(len(companies)), "total": float(companies["rating"].sum())}


def register_pipelines() -> dict[str, Pipeline]:
    return {
        "__default__": pipeline([node(count, "companies", "summary", name="count")]),
        "factory": pipeline([node(count, "companies_asset", "summary", name="count")]),
        "twice": pipeline(
            [
                node(count, "companies", "summary", name="count"),
                node(count, "companies", "summary_again", name="count_again"),
            ]
        ),
    }
"""
CATALOG = """
"{name}_asset":
  type: kedro_azureml.datasets.AzureMLAssetDataset
  azureml_dataset: "{name}"
  azureml_type: uri_folder
  dataset:
    type: pandas.CSVDataset
    filepath: "{name}.csv"
companies:
  type: kedro_azureml.datasets.AzureMLAssetDataset
  azureml_dataset: companies
  azureml_type: uri_folder
  dataset:
    type: pandas.CSVDataset
    filepath: companies.csv
"""


@pytest.fixture
def asset_project(small_project: Path, aml_standin: Any, azurite: Any, ml_client: Any) -> Path:
    from azure.ai.ml.entities import Data

    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    container = service.get_container_client(f"azureml-blobstore-{aml_standin.workspace_guid}")
    if not container.exists():
        container.create_container()
    container.upload_blob(
        "assets/companies/v3/companies.csv",
        b"company,rating\na,0.5\nb,0.25\nc,1.0\n",
        overwrite=True,
    )
    ml_client.data.create_or_update(
        Data(
            name="companies",
            version="3",
            type="uri_folder",
            path="azureml://datastores/workspaceblobstore/paths/assets/companies/v3/",
        )
    )
    (small_project / "src" / "demo" / "pipeline_registry.py").write_text(PIPELINE)
    (small_project / "conf" / "base" / "catalog.yml").write_text(CATALOG)
    kedro(
        small_project,
        "azureml",
        "init",
        "-s",
        aml_standin.subscription_id,
        aml_standin.resource_group,
        aml_standin.workspace_name,
        "exp",
        "cpu",
        "env@latest",
    )
    return small_project


def test_run_local_mounts_a_data_asset_version(
    asset_project: Path, aml_standin: Any, azurite: Any, tmp_path: Path
) -> None:
    seam = write_seam(tmp_path / "standin.json", aml_standin, azurite=azurite)
    explained = kedro(
        asset_project, "azureml", "compile", "--explain", "--load-versions", "companies:3"
    )
    assert "companies: Azure ML data asset, mounted as azureml:companies:3" in explained.stdout
    compiled = yaml.safe_load((asset_project / "pipeline.yaml").read_text())
    assert compiled["jobs"]["count"]["inputs"]["companies"] == {
        "type": "uri_folder",
        "path": "azureml:companies:3",
    }

    run = kedro(
        asset_project,
        "azureml",
        "run",
        "--local",
        "--from-yaml",
        "pipeline.yaml",
        PYTHONPATH=str(REPO),
        **seam,
    )
    assert "TEST SEAM ACTIVE" in run.stderr
    run_dir = last_run(asset_project)
    assert load_object(str(run_dir / "outputs" / "summary")) == {"rows": 3, "total": 1.75}
    mounted = run_dir / "assets" / "count" / "companies" / "companies.csv"
    assert mounted.read_text().splitlines()[0] == "company,rating"
    calls = [r.call for r in aml_standin.requests]
    assert "GET {ws}/data/companies/versions/3" in calls


def test_latest_is_resolved_once_per_run_and_printed(
    asset_project: Path, aml_standin: Any, azurite: Any, tmp_path: Path
) -> None:
    seam = write_seam(tmp_path / "standin.json", aml_standin, azurite=azurite)
    run = kedro(
        asset_project, "azureml", "run", "--local", "-p", "twice", PYTHONPATH=str(REPO), **seam
    )
    assert "data asset companies@latest read as version 3" in run.stdout
    run_dir = last_run(asset_project)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["asset_versions"] == {"companies@latest": "3"}
    for step in ("count", "count_again"):
        assert (run_dir / "assets" / step / "companies" / "companies.csv").is_file()
    calls = [r.call for r in aml_standin.requests]
    lookups = [call for call in calls if call.startswith("GET {ws}/data/companies")]
    # One lookup of what @latest means (the SDK reads the asset, then that version); each
    # step then fetches version 3 itself.
    assert lookups.count("GET {ws}/data/companies") == 1
    assert lookups.count("GET {ws}/data/companies/versions/3") == 3


@pytest.mark.parametrize("pipeline", ["__default__", "factory"], ids=["declared", "factory"])
def test_plain_kedro_run_downloads_from_the_configured_workspace(
    asset_project: Path, aml_standin: Any, azurite: Any, tmp_path: Path, pipeline: str
) -> None:
    # The catalog entry names no workspace: the plugin's hook gives it azureml.yml's.
    seam = write_seam(tmp_path / "standin.json", aml_standin, azurite=azurite)
    result = kedro(asset_project, "run", "-p", pipeline, **seam, PYTHONPATH=str(REPO))
    assert "Pipeline execution completed successfully" in result.stdout + result.stderr
    cached = asset_project / "data" / "companies" / "3" / "companies.csv"
    assert cached.read_text().splitlines()[1:] == ["a,0.5", "b,0.25", "c,1.0"]
    assert "GET {ws}/data/companies" in [r.call for r in aml_standin.requests]
