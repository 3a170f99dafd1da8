"""Kedro's run filters on a job's pipeline, and the data a filtered pipeline cannot find."""

from __future__ import annotations

from typing import Any

import pytest
from kedro.pipeline import node, pipeline

from kedro_azureml.compiler.filters import check_cut_inputs, filter_pipeline, local_file
from kedro_azureml.errors import CompileError


def _f(*args: Any) -> int:
    return 1


PIPELINE = pipeline(
    [
        node(_f, "raw", "clean", name="clean"),
        node(_f, "clean", "table", name="table", tags=["chunky"]),
        node(_f, ["table", "params:model.alpha"], "model", name="train", tags=["chunky"]),
        node(_f, ["model", "table"], "metrics", name="score"),
    ]
)
CATALOG: dict[str, dict[str, Any]] = {
    "raw": {"type": "pandas.CSVDataset", "filepath": "data/01_raw/raw.csv"},
    "table": {"type": "pandas.ParquetDataset", "filepath": "data/03_primary/table.parquet"},
    "model": {"type": "pickle.PickleDataset", "filepath": "abfs://models/model.pkl"},
}


def _names(selected: Any) -> set[str]:
    return {n.name for n in selected.nodes}


def _select(job: dict[str, list[str]], cli: dict[str, list[str]]) -> set[str]:
    return _names(
        filter_pipeline(
            PIPELINE, pipeline_name="__default__", job_filters=job, cli_filters=cli, job_name="n"
        )
    )


@pytest.mark.parametrize(
    ("job", "cli", "expected"),
    [
        pytest.param({}, {}, {"clean", "table", "train", "score"}, id="no-filter"),
        pytest.param({"to_nodes": ["train"]}, {}, {"clean", "table", "train"}, id="job-only"),
        pytest.param({}, {"tags": ["chunky"]}, {"table", "train"}, id="cli-only"),
        pytest.param(
            {"to_nodes": ["train"]}, {"tags": ["chunky"]}, {"table", "train"}, id="cli-narrows"
        ),
        pytest.param(
            {"from_nodes": ["table"], "to_nodes": ["train"]},
            {},
            {"table", "train"},
            id="kedro-intersection",
        ),
    ],
)
def test_the_command_line_narrows_the_jobs_selection(
    job: dict[str, list[str]], cli: dict[str, list[str]], expected: set[str]
) -> None:
    assert _select(job, cli) == expected
    if job and not cli:  # the same as Kedro's own filter
        assert expected == _names(PIPELINE.filter(**job))


def test_unknown_node_names_the_source_and_the_name() -> None:
    with pytest.raises(CompileError) as error:
        _select({"node_names": ["trian"]}, {})
    message = str(error.value)
    assert "The filters of jobs.n.pipeline (node_names: [trian])" in message
    assert "Pipeline does not contain nodes named ['trian']" in message


def test_a_filter_that_selects_nothing_is_an_error() -> None:
    with pytest.raises(CompileError, match=r"command line \(--tags nightly\) select nothing"):
        _select({}, {"tags": ["nightly"]})


def test_filters_with_no_node_in_common_are_an_error() -> None:
    with pytest.raises(CompileError) as error:
        _select({"node_names": ["clean"]}, {"node_names": ["score"]})
    assert "together select no node of pipeline '__default__'" in str(error.value)


def _cut(selected_nodes: list[str], available: dict[str, str | None] | None = None) -> None:
    selected = PIPELINE.only_nodes(*selected_nodes)
    check_cut_inputs(
        PIPELINE,
        selected,
        CATALOG.get,
        lambda path: (available or {}).get(path, "does not exist in the project"),
    )


def test_in_memory_data_of_a_left_out_node_is_an_error() -> None:
    with pytest.raises(CompileError) as error:
        _cut(["table"])
    message = str(error.value)
    assert "Dataset 'clean' is read by node 'table', but node 'clean' that makes it" in message
    assert "it lives in memory" in message
    assert "--from-nodes clean" in message


def test_a_missing_file_of_a_left_out_node_is_an_error() -> None:
    with pytest.raises(
        CompileError, match=r"its file data/03_primary/table\.parquet does not exist"
    ):
        _cut(["train"])


def test_an_existing_file_remote_data_and_raw_inputs_are_fine() -> None:
    _cut(["train"], {"data/03_primary/table.parquet": None})  # the file is there
    _cut(["score"], {"data/03_primary/table.parquet": None})  # model is remote
    _cut(["clean"])  # raw input: no node makes it


@pytest.mark.parametrize(
    ("config", "path"),
    [
        pytest.param({"type": "pandas.CSVDataset", "filepath": "a/b.csv"}, "a/b.csv", id="file"),
        pytest.param(
            {"type": "CachedDataset", "dataset": {"type": "x", "filepath": "a/c.csv"}},
            "a/c.csv",
            id="wrapper",
        ),
        pytest.param(
            {
                "type": "kedro_azureml.datasets.AzureMLPipelineDataset",
                "root_dir": "data/03",
                "dataset": {"type": "pandas.ParquetDataset", "filepath": "t.parquet"},
            },
            "data/03/t.parquet",
            id="pipeline-dataset",
        ),
        pytest.param(None, None, id="memory"),
    ],
)
def test_local_file_of_a_dataset(config: dict[str, Any] | None, path: str | None) -> None:
    assert local_file(config) == path
