"""Which datasets travel between steps, and how: one row per rule of the data issue."""

from __future__ import annotations

from typing import Any

import pytest
from kedro.io import DataCatalog
from kedro.pipeline import node, pipeline

from kedro_azureml.compiler.compile import plan_pipeline
from kedro_azureml.compiler.render import CompileOptions
from kedro_azureml.config import parse_config
from kedro_azureml.contract.routing import resolve_dataset_config, route_dataset, travelling_config

CATALOG = {
    "raw": {"type": "pandas.CSVDataset", "filepath": "data/01_raw/raw.csv"},
    "declared_memory": {"type": "MemoryDataset"},
    "local_csv": {"type": "pandas.CSVDataset", "filepath": "data/02_intermediate/x.csv"},
    "local_parquet": {"type": "pandas.ParquetDataset", "filepath": "data/03_primary/p.parquet"},
    "remote_abfs": {"type": "pandas.CSVDataset", "filepath": "abfs://container/remote.csv"},
    "{name}_factory": {"type": "pandas.CSVDataset", "filepath": "data/04_feature/{name}.csv"},
    "final_csv": {"type": "pandas.CSVDataset", "filepath": "data/08_reporting/final.csv"},
}


def _f(*args: Any) -> Any:
    return args[0]


@pytest.fixture(scope="module")
def plan():
    catalog = DataCatalog.from_config(CATALOG)
    pipe = pipeline(
        [
            node(_f, ["raw", "params:alpha"], "undeclared", name="n1"),
            node(_f, "undeclared", "declared_memory", name="n2"),
            node(_f, "declared_memory", "local_csv", name="n3"),
            node(_f, "local_csv", "local_parquet", name="n4"),
            node(_f, "local_parquet", "remote_abfs", name="n5"),
            node(_f, "remote_abfs", "made_factory", name="n6"),
            node(_f, "made_factory", ["final_csv", "final_memory"], name="n7"),
        ]
    )
    config = parse_config(
        {
            "azure": {
                "resource_group": "rg",
                "workspace_name": "ws",
                "experiment_name": "e",
                "compute": {"__default__": {"cluster_name": "c1"}},
                "environment_name": "env@latest",
            }
        }
    )
    return plan_pipeline(  # one node per step: every dataset between nodes crosses steps
        pipe,
        config,
        CompileOptions(),
        lambda name: resolve_dataset_config(catalog, name),
        grouping="none",
    )


@pytest.mark.parametrize(
    ("dataset", "route", "decision", "crosses"),
    [
        pytest.param(
            "undeclared",
            "memory",
            "travels through the producing step's output folder",
            True,
            id="memory",
        ),
        pytest.param(
            "declared_memory",
            "memory",
            "travels through the producing step's output folder",
            True,
            id="declared-memory",
        ),
        pytest.param(
            "local_csv",
            "local-file",
            "travels through the producing step's output folder",
            True,
            id="local-csv",
        ),
        pytest.param(
            "local_parquet",
            "local-file",
            "travels through the producing step's output folder",
            True,
            id="local-parquet",
        ),
        pytest.param(
            "remote_abfs",
            "in-place",
            "written and read in place; an empty output orders the steps",
            True,
            id="remote-abfs",
        ),
        pytest.param(
            "made_factory",
            "local-file",
            "travels through the producing step's output folder",
            True,
            id="factory-resolved",
        ),
        pytest.param(
            "params:alpha", "parameter", "not data: passed as a parameter", False, id="params"
        ),
        pytest.param(
            "raw",
            "local-file",
            "pipeline input: comes with the code snapshot or image",
            False,
            id="raw-input",
        ),
        pytest.param("final_csv", "local-file", "job output", False, id="final-output-local"),
        pytest.param("final_memory", "memory", "job output", False, id="final-output-memory"),
    ],
)
def test_dataset_rules(plan, dataset: str, route: str, decision: str, crosses: bool) -> None:
    found = plan.datasets[dataset]
    assert found.route.route.value == route
    assert found.decision == decision
    wired = any(dataset in step.inputs for step in plan.steps)
    assert wired is crosses


def test_final_outputs_become_named_job_outputs(plan) -> None:
    assert plan.job_outputs == {"final_csv": "final_csv", "final_memory": "final_memory"}


def test_factory_resolution_keeps_the_type_and_path(plan) -> None:
    assert plan.datasets["made_factory"].route.reason == (
        "local path data/04_feature/made.csv: travels as pandas.CSVDataset"
    )


def test_undeclared_and_declared_memory_are_told_apart(plan) -> None:
    assert plan.datasets["undeclared"].route.reason == "not in the catalog: an in-memory object"
    assert plan.datasets["declared_memory"].route.reason == "declared as MemoryDataset"


@pytest.mark.parametrize(
    ("config", "route"),
    [
        ({"type": "pandas.CSVDataset", "filepath": "az://c/x.csv"}, "in-place"),
        ({"type": "pandas.CSVDataset", "filepath": "s3://b/x.csv"}, "in-place"),
        ({"type": "pandas.CSVDataset", "filepath": "gs://b/x.csv"}, "in-place"),
        (
            {"type": "pandas.CSVDataset", "filepath": "azureml://datastores/d/paths/x.csv"},
            "in-place",
        ),
        ({"type": "pandas.CSVDataset", "filepath": "file:///tmp/x.csv"}, "local-file"),
        ({"type": "pandas.SQLTableDataset", "table_name": "t"}, "in-place"),
        (
            {
                "type": "CachedDataset",
                "dataset": {"type": "pandas.CSVDataset", "filepath": "d/x.csv"},
            },
            "local-file",
        ),
        (
            {
                "type": "CachedDataset",
                "dataset": {"type": "pandas.CSVDataset", "filepath": "s3://b/x"},
            },
            "in-place",
        ),
    ],
)
def test_routes_by_location(config: dict[str, Any], route: str) -> None:
    assert route_dataset("x", config).route.value == route


def test_a_wrapper_travels_as_the_dataset_it_wraps() -> None:
    inner = {"type": "pandas.CSVDataset", "filepath": "data/02_intermediate/x.csv"}
    wrapped = {"type": "CachedDataset", "dataset": inner, "copy_mode": "deepcopy"}
    assert travelling_config(wrapped) == inner
    assert "CachedDataset wrapping local path data/02_intermediate/x.csv" in (
        route_dataset("x", wrapped).reason
    )
    plain = {"type": "pandas.CSVDataset", "filepath": "a.csv"}
    assert travelling_config(plain) is plain
    ours = {"type": "kedro_azureml.datasets.AzureMLPipelineDataset", "dataset": inner}
    assert travelling_config(ours) is ours


@pytest.mark.parametrize(
    ("uri", "parts"),
    [
        ("azureml://datastores/store/paths/a/b.csv", ("store", "a/b.csv")),
        (
            "azureml://subscriptions/s/resourcegroups/rg/workspaces/ws/datastores/store/paths/a/",
            ("store", "a/"),
        ),
        # the first datastores/ names the datastore, even if the path repeats the pattern
        (
            "azureml://datastores/d1/paths/x/datastores/d2/paths/y",
            ("d1", "x/datastores/d2/paths/y"),
        ),
        ("azureml:companies:3", None),
        ("abfs://container/datastores/d/paths/x", None),
    ],
    ids=["short", "workspace-qualified", "path-repeats-pattern", "asset-reference", "abfs"],
)
def test_one_datastore_uri_pattern_for_compiled_jobs_and_asset_paths(
    uri: str, parts: tuple[str, str] | None
) -> None:
    from kedro_azureml.contract.storage_paths import DATASTORE_URI, is_datastore_uri

    match = DATASTORE_URI.match(uri)
    assert (match and (match["datastore"], match["path"])) == parts
    assert is_datastore_uri(uri) is (parts is not None)


@pytest.mark.parametrize(
    ("config", "stays"),
    [
        ({"type": "MemoryDataset", "copy_mode": "assign"}, True),
        ({"type": "kedro.io.SharedMemoryDataset", "copy_mode": "assign"}, True),
        ({"type": "MemoryDataSet", "copy_mode": "assign"}, True),
        ({"type": "MemoryDataset", "copy_mode": "deepcopy"}, False),
        ({"type": "pickle.PickleDataset", "filepath": "x.pkl", "copy_mode": "assign"}, False),
        (None, False),
    ],
    ids=["memory", "shared-memory", "old-spelling", "deepcopy", "not-memory", "undeclared"],
)
def test_which_catalog_entries_cannot_travel(config: dict[str, Any] | None, stays: bool) -> None:
    from kedro_azureml.contract.routing import cannot_travel

    assert cannot_travel(config) is stays
