from __future__ import annotations

import doctest
from pathlib import Path

import pandas as pd
import pytest
from kedro.io import DataCatalog, DatasetError
from kedro_datasets.pandas import CSVDataset

from kedro_azureml.datasets import AzureMLPipelineDataset
from kedro_azureml.datasets import pipeline_dataset as module

FRAME = pd.DataFrame({"x": [1, 2, 3], "y": ["a", "b", "c"]})


def _dataset(root: Path, **kwargs: object) -> AzureMLPipelineDataset:
    kwargs.setdefault("dataset", {"type": "pandas.CSVDataset", "filepath": "sub/table.csv"})
    return AzureMLPipelineDataset(root_dir=str(root), **kwargs)  # type: ignore[arg-type]


def test_round_trip_writes_under_root_dir(tmp_path: Path) -> None:
    dataset = _dataset(tmp_path)

    assert not dataset.exists()
    dataset.save(FRAME)

    assert dataset.exists()
    assert (tmp_path / "sub" / "table.csv").read_text().splitlines() == [
        "x,y",
        "1,a",
        "2,b",
        "3,c",
    ]
    pd.testing.assert_frame_equal(dataset.load(), FRAME)


def test_with_folder_redirects_and_keeps_the_original(tmp_path: Path) -> None:
    dataset = _dataset(tmp_path / "data", dataset={"type": CSVDataset, "filepath": "t.csv"})

    mounted = dataset.with_folder(str(tmp_path / "mnt"))
    mounted.save(FRAME)

    assert mounted.path == tmp_path / "mnt" / "t.csv"
    assert mounted.root_dir == str(tmp_path / "mnt")
    assert (tmp_path / "mnt" / "t.csv").is_file()
    assert dataset.path == tmp_path / "data" / "t.csv"
    assert not dataset.exists()
    pd.testing.assert_frame_equal(mounted.load(), FRAME)


def test_type_string_uses_root_dir_as_path(tmp_path: Path) -> None:
    dataset = AzureMLPipelineDataset(
        dataset="pickle.PickleDataset", root_dir=str(tmp_path / "obj.pkl")
    )

    dataset.save({"a": 1})

    assert dataset.path == tmp_path / "obj.pkl"
    assert dataset.load() == {"a": 1}


def test_custom_filepath_arg(tmp_path: Path) -> None:
    dataset = _dataset(
        tmp_path,
        dataset={
            "type": "partitions.PartitionedDataset",
            "path": "parts",
            "dataset": "pandas.CSVDataset",
        },
        filepath_arg="path",
    )
    dataset.save({"p1": FRAME, "p2": FRAME.head(1)})

    loaded = dataset.load()
    assert sorted(loaded) == ["p1", "p2"]
    pd.testing.assert_frame_equal(loaded["p2"](), FRAME.head(1))
    assert sorted(p.name for p in (tmp_path / "parts").iterdir()) == ["p1", "p2"]


def test_describe(tmp_path: Path) -> None:
    dataset = _dataset(tmp_path)

    assert dataset._describe() == {
        "dataset": "pandas.CSVDataset",
        "root_dir": str(tmp_path),
        "path": str(tmp_path / "sub" / "table.csv"),
    }
    assert "AzureMLPipelineDataset" in repr(dataset)


def test_from_catalog_config(tmp_path: Path) -> None:
    catalog = DataCatalog.from_config(
        {
            "table": {
                "type": "kedro_azureml.datasets.AzureMLPipelineDataset",
                "root_dir": str(tmp_path),
                "dataset": {"type": "pandas.CSVDataset", "filepath": "t.csv"},
            }
        }
    )
    catalog.save("table", FRAME)

    pd.testing.assert_frame_equal(catalog.load("table"), FRAME)
    assert (tmp_path / "t.csv").is_file()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"dataset": {"filepath": "t.csv"}}, "needs a 'type'"),
        ({"dataset": 3}, "must be a dataset type or a config dict"),
        ({"dataset": {"type": "pandas.CSVDataset", "filepath": 3}}, "must be a string"),
        ({"dataset": {"type": "pandas.NoSuchDataset", "filepath": "t"}}, "NoSuchDataset"),
    ],
    ids=["no-type", "not-a-config", "path-not-string", "unknown-type"],
)
def test_bad_config(tmp_path: Path, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(DatasetError, match=message):
        _dataset(tmp_path, **kwargs)


def test_docstring_example_runs(tmp_path: Path) -> None:
    results = doctest.testmod(module, extraglobs={"tmp_path": tmp_path}, raise_on_error=True)

    assert results.attempted >= 6


def test_path_made_absolute_by_kedro_is_relative_to_root_dir_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    (project / "notebooks").mkdir(parents=True)
    (project / "pyproject.toml").write_text('[tool.kedro]\npackage_name = "demo"\n')
    monkeypatch.chdir(project / "notebooks")  # Kedro finds the project from a subfolder
    absolute = {"type": "pandas.CSVDataset", "filepath": str(project / "tables" / "t.csv")}

    dataset = _dataset(tmp_path / "root", dataset=absolute)

    assert dataset.path == tmp_path / "root" / "tables" / "t.csv"
    assert dataset.with_folder(str(tmp_path / "mnt")).path == tmp_path / "mnt" / "tables" / "t.csv"
    with pytest.raises(DatasetError, match="must be relative to root_dir"):
        _dataset(tmp_path, dataset={"type": "pandas.CSVDataset", "filepath": "/elsewhere/t.csv"})
