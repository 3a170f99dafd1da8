"""The official starter's shape under the default grouping: 3 steps, 2 starts, `kedro run`'s values."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tests.support.kedro_projects import kedro, last_run
from tests.support.starter_project import write_starter_project

pytestmark = pytest.mark.slow  # 77,096 shuttles in an xlsx: about a minute to write, and to read

INIT = ["azureml", "init", "rg", "ws", "exp", "cpu-cluster", "kedro-env@latest"]


@pytest.fixture
def starter_project(blank_project: Path) -> Path:
    write_starter_project(blank_project)
    kedro(blank_project, *INIT)
    return blank_project


def _same(local: Path, kedro_run: Path) -> None:
    if local.suffix == ".parquet":
        pd.testing.assert_frame_equal(pd.read_parquet(local), pd.read_parquet(kedro_run))
    elif local.suffix == ".json":
        assert json.loads(local.read_text()) == json.loads(kedro_run.read_text())
    else:
        assert local.read_text() == kedro_run.read_text(), local.name


def test_the_starter_runs_locally_in_three_steps_with_kedro_runs_outputs(
    starter_project: Path,
) -> None:
    explained = kedro(starter_project, "azureml", "compile", "--explain").stdout
    assert "Pipeline '__default__': 3 Azure ML steps, 2 starts on the longest chain" in (
        " ".join(explained.split())
    )

    result = kedro(starter_project, "azureml", "run", "--local", "--no-mlflow")
    assert "3/3" in result.stdout
    run_dir = last_run(starter_project)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert {name: step["status"] for name, step in summary["steps"].items()} == {
        "preprocess_companies_node": "succeeded",
        "preprocess_shuttles_node": "succeeded",
        "create_model_input_table_node": "succeeded",
    }

    kedro(starter_project, "run")  # plain Kedro, one process, into the project's data/
    # The reports and metrics (job outputs), and the two tables that crossed steps.
    compared = {
        "outputs/metrics/metrics.json": "08_reporting/metrics.json",
        "outputs/dummy_confusion_matrix/dummy_confusion_matrix.csv": (
            "08_reporting/dummy_confusion_matrix.csv"
        ),
        "outputs/shuttle_passenger_capacity_plot_exp/shuttle_passenger_capacity_plot_exp.csv": (
            "08_reporting/shuttle_passenger_capacity_plot_exp.csv"
        ),
        "outputs/shuttle_passenger_capacity_plot_go/shuttle_passenger_capacity_plot_go.csv": (
            "08_reporting/shuttle_passenger_capacity_plot_go.csv"
        ),
        "data/preprocess_companies_node/preprocessed_companies/preprocessed_companies.parquet": (
            "02_intermediate/preprocessed_companies.parquet"
        ),
        "data/preprocess_shuttles_node/preprocessed_shuttles/preprocessed_shuttles.parquet": (
            "02_intermediate/preprocessed_shuttles.parquet"
        ),
    }
    for local, plain in compared.items():
        _same(run_dir / local, starter_project / "data" / plain)
    metrics = json.loads((run_dir / "outputs" / "metrics" / "metrics.json").read_text())
    assert 0.5 < metrics["r2_score"] < 1.0  # the model learnt something: real data went through
