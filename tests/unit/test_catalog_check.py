"""Catalog entries Kedro cannot build are compile errors, with the Kedro 1.x spelling."""

from __future__ import annotations

from typing import Any

import pytest

from kedro_azureml.errors import ConfigError
from kedro_azureml.project.catalog_check import check_dataset_types

CATALOG: dict[str, dict[str, Any]] = {
    "good_csv": {"type": "pandas.CSVDataset", "filepath": "data/01_raw/a.csv"},
    "good_memory": {"type": "MemoryDataset"},
    "good_full_path": {"type": "kedro.io.MemoryDataset"},
    "old_spelling": {"type": "pandas.CSVDataSet", "filepath": "data/01_raw/b.csv"},
    "old_layer": {"type": "pandas.CSVDataset", "filepath": "c.csv", "layer": "raw"},
    "typo": {"type": "pandas.CVSDataset", "filepath": "d.csv"},
    "no_package": {"type": "nosuchpackage.Thing"},
}


def _check(*names: str, env: str = "base") -> None:
    check_dataset_types(names, CATALOG.get, env)


def test_buildable_datasets_params_and_undeclared_pass() -> None:
    _check("good_csv", "good_memory", "good_full_path", "params:x", "parameters", "undeclared")


def test_every_problem_is_listed_with_its_fix() -> None:
    with pytest.raises(ConfigError) as info:
        _check("good_csv", "old_spelling", "old_layer", "typo", "no_package", env="prod")
    message = str(info.value)
    assert "conf/base or conf/prod" in message
    assert "old_spelling: type 'pandas.CSVDataSet' does not exist" in message
    assert "it is 'pandas.CSVDataset'" in message
    assert "old_layer: 'layer' is not a dataset argument" in message
    assert "metadata: {kedro-viz: {layer: ...}}" in message
    assert "typo: type 'pandas.CVSDataset' not found" in message
    assert "no_package: type 'nosuchpackage.Thing' not found" in message
    assert "good_csv" not in message
