"""AzureMLPipelineDataset in a real project: plain `kedro run` and `kedro azureml run --local`."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from tests.support.kedro_projects import kedro, last_run

# No temporary storage: data passes through Azure ML job outputs (local folders here).
INIT = ["azureml", "init", "rg", "ws", "exp", "cpu-cluster", "env@latest"]
CATALOG = """\
numbers:
  type: pandas.CSVDataset
  filepath: data/01_raw/numbers.csv
scaled_csv:
  type: kedro_azureml.datasets.AzureMLPipelineDataset
  root_dir: data/02_intermediate
  dataset:
    type: pandas.CSVDataset
    filepath: tables/scaled.csv
report:
  type: kedro_azureml.datasets.AzureMLPipelineDataset
  root_dir: data/08_reporting
  dataset:
    type: json.JSONDataset
    filepath: report.json
"""


@pytest.fixture
def project(small_project: Path) -> Path:
    (small_project / "conf" / "base" / "catalog.yml").write_text(textwrap.dedent(CATALOG))
    return small_project


def test_plain_kedro_run_uses_root_dir(project: Path) -> None:
    kedro(project, "run")

    csv = project / "data" / "02_intermediate" / "tables" / "scaled.csv"
    assert csv.read_text().splitlines()[:3] == ["x", "3", "6"]
    report = yaml.safe_load((project / "data" / "08_reporting" / "report.json").read_text())
    assert report == {"total": 165, "rows": 10, "max": 30}


def test_run_local_redirects_to_step_folders(project: Path) -> None:
    kedro(project, *INIT)
    kedro(project, "azureml", "compile", "-o", "pipeline.yaml")
    compiled = yaml.safe_load((project / "pipeline.yaml").read_text())
    assert compiled["jobs"]["report"]["inputs"]["scaled_csv"] == {
        "path": "${{parent.jobs.to_csv.outputs.scaled_csv}}"
    }
    assert "report" in compiled["outputs"]

    kedro(project, "azureml", "run", "--local", "--from-yaml", "pipeline.yaml")

    run_dir = last_run(project)
    csv = run_dir / "data" / "to_csv" / "scaled_csv" / "tables" / "scaled.csv"
    assert csv.read_text().splitlines()[:3] == ["x", "3", "6"]
    report = yaml.safe_load((run_dir / "outputs" / "report" / "report.json").read_text())
    assert report == {"total": 165, "rows": 10, "max": 30}
    assert not (project / "data" / "02_intermediate" / "tables").exists()
