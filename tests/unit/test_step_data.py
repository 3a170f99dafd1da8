"""The folders a step reads and writes: complete-or-absent, and bounded waits for ranks."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pytest
from kedro.io import DatasetError

from kedro_azureml.contract.storage_paths import METADATA_FILE
from kedro_azureml.errors import StepDataError
from kedro_azureml.step.step_data import StepFolderDataset

CSV = {"type": "pandas.CSVDataset", "filepath": "data/02_intermediate/table.csv"}


def test_catalog_dataset_keeps_its_format(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    StepFolderDataset(name="table", folder=str(tmp_path), catalog_config=CSV).save(frame)
    assert (tmp_path / "table.csv").read_text().splitlines() == ["a,b", "1,x", "2,y"]
    assert (tmp_path / METADATA_FILE).is_file()
    loaded = StepFolderDataset(name="table", folder=str(tmp_path), catalog_config=CSV).load()
    assert loaded.equals(frame)


def test_folder_without_marker_is_incomplete(tmp_path: Path) -> None:
    (tmp_path / "table.csv").write_text("a\n1\n")
    with pytest.raises(DatasetError, match="did not finish writing") as error:
        StepFolderDataset(name="table", folder=str(tmp_path), catalog_config=CSV).load()
    assert isinstance(error.value.__cause__, StepDataError)


def test_non_master_rank_waits_then_fails_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("KEDRO_AZUREML_RANK_WAIT_SECONDS", "0.5")
    started = time.monotonic()
    with pytest.raises(DatasetError, match="Gave up waiting for rank 0") as error:
        StepFolderDataset(name="x", folder=str(tmp_path)).load()
    assert isinstance(error.value.__cause__, StepDataError)
    assert time.monotonic() - started >= 0.5


def test_non_master_rank_does_not_save(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RANK", "1")
    StepFolderDataset(name="x", folder=str(tmp_path / "out")).save({"a": 1})
    assert not (tmp_path / "out").exists()
