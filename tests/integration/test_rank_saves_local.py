"""Distributed steps under ``run --local``: which rank saves, and what one failing rank does."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.support.kedro_projects import kedro, last_run

INIT = ["azureml", "init", "rg", "ws", "exp", "cpu-cluster", "kedro-env@latest"]

DATASETS = '''
import os
from pathlib import Path

from kedro.io import AbstractDataset


class AppendLineDataset(AbstractDataset):
    """Saved in place (no file path the plugin could move): appends who saved it."""

    def __init__(self, target: str):
        self._target = Path(target)

    def _describe(self):
        return {"target": str(self._target)}

    def load(self):
        return self._target.read_text()

    def save(self, data):
        with self._target.open("a") as stream:
            stream.write(f"{data} saved by RANK={os.environ.get('RANK')}\\n")
'''

PIPELINES = """
import os
import time

from kedro.pipeline import Pipeline, node, pipeline

from kedro_azureml.distributed import Framework, distributed_job


@distributed_job(Framework.PyTorch, num_nodes=2)
def train(factor):
    return f"model x{factor}"


@distributed_job(Framework.PyTorch, num_nodes=2)
def flaky(factor):
    if os.environ.get("RANK") == "1":
        raise SystemExit(3)
    time.sleep(120)  # rank 0 would sit in a collective: the runner must stop it
    return factor


def register_pipelines() -> dict[str, Pipeline]:
    saves = pipeline([node(train, "params:factor", "model_log", name="train")])
    failing = pipeline([node(flaky, "params:factor", "never", name="flaky")])
    return {"__default__": saves, "failing": failing}
"""


@pytest.fixture
def rank_project(blank_project: Path, tmp_path: Path) -> Path:
    package = blank_project / "src" / "demo"
    (package / "rank_datasets.py").write_text(DATASETS)
    (package / "pipeline_registry.py").write_text(PIPELINES)
    (blank_project / "conf" / "base" / "parameters.yml").write_text("factor: 3\n")
    target = tmp_path / "saved.txt"
    (blank_project / "conf" / "base" / "catalog.yml").write_text(
        f"model_log:\n  type: demo.rank_datasets.AppendLineDataset\n  target: {target}\n"
    )
    kedro(blank_project, *INIT)
    return blank_project


def test_only_rank_zero_saves_an_in_place_output(rank_project: Path, tmp_path: Path) -> None:
    kedro(rank_project, "azureml", "run", "--local", "--no-mlflow")
    assert (tmp_path / "saved.txt").read_text() == "model x3 saved by RANK=0\n"


def test_one_failing_rank_fails_the_step_at_once_with_its_exit_code(rank_project: Path) -> None:
    started = time.monotonic()
    result = kedro(
        rank_project, "azureml", "run", "--local", "-p", "failing", "--no-mlflow", check=False
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 1
    assert elapsed < 90  # rank 0 sleeps 120 s unless it is stopped
    run_dir = last_run(rank_project)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["steps"]["flaky"]["status"] == "failed"
    assert summary["steps"]["flaky"]["returncode"] == 3  # the failing rank's, not the stopped one's
