"""The spaceflights `distributed` pipeline: compiled counts, and real DDP over gloo locally."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from kedro_azureml.step.serialization import load_object
from tests.support.kedro_projects import copy_example, kedro, quiet_env

TRAIN_STEP = "data_science_active_modelling_pipeline_train_distributed_model_node"
REPORT = "data_science_active_modelling_pipeline_distributed_training_report"
LOG_LINE = re.compile(r"Rank (\d+) of (\d+): loss [0-9.]+, weights sha256 ([0-9a-f]{64})")


@pytest.fixture(scope="module")
def spaceflights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_example(tmp_path_factory.mktemp("distributed"))


def _compile(project: Path, name: str, *args: str) -> dict[str, Any]:
    kedro(project, "azureml", "compile", "-o", name, *args)
    return dict(yaml.safe_load((project / name).read_text()))


@pytest.mark.parametrize(
    ("params", "instance_count"),
    [
        ((), 2),
        (("--params", '{"data_science": {"active_modelling_pipeline": {"num_nodes": 4}}}'), 4),
        (("--params", "data_science.active_modelling_pipeline.num_nodes=3"), 3),
    ],
    ids=["parameters-yml", "quickstart-json", "kedro-syntax"],
)
def test_num_nodes_comes_from_params(
    spaceflights: Path, params: tuple[str, ...], instance_count: int
) -> None:
    job = _compile(spaceflights, f"distributed-{instance_count}.yaml", "-p", "distributed", *params)
    step = job["jobs"][TRAIN_STEP]
    assert step["resources"] == {"instance_count": instance_count}
    assert step["distribution"] == {"type": "pytorch", "process_count_per_instance": 1}
    assert step["compute"] == "azureml:cpu-cluster"
    undistributed = {name for name, job in job["jobs"].items() if "distribution" not in job}
    # Default namespace grouping: the distributed node runs alone, named after itself; the
    # chunky-tagged data_processing nodes share a step on cpu-cluster-8.
    assert undistributed == {
        "data_processing",
        "data_processing_preprocess_shuttles_node",
        "data_science_active_modelling_pipeline_split_data_node",
    }
    assert job["jobs"]["data_processing"]["compute"] == "azureml:cpu-cluster-8"
    assert job["jobs"]["data_processing_preprocess_shuttles_node"].get("compute") in (
        None,
        "azureml:cpu-cluster",
    )


def test_other_pipelines_need_no_torch(spaceflights: Path) -> None:
    """`__default__` compiles without distribution and registering pipelines never imports torch."""
    job = _compile(spaceflights, "default.yaml")
    assert [name for name, step in job["jobs"].items() if "distribution" in step] == []
    probe = (
        "import sys; sys.path.insert(0, 'src');"
        "from spaceflights.pipeline_registry import register_pipelines;"
        "print(sorted(register_pipelines()), 'torch' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=spaceflights,
        env=quiet_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.split("]")[-1].strip() == "False"
    assert "'distributed'" in result.stdout and "'__default__'" in result.stdout


@pytest.mark.skipif(
    importlib.util.find_spec("torch") is None,
    reason="torch is not installed: pip install torch==2.13.0 "
    "(examples/spaceflights/requirements-distributed.txt)",
)
def test_two_ranks_train_with_all_reduced_gradients(spaceflights: Path) -> None:
    kedro(spaceflights, "azureml", "run", "--local", "-p", "distributed", timeout=600)
    run_dir = sorted((spaceflights / ".kedro-azureml" / "runs").glob("*-distributed"))[-1]
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["steps"][TRAIN_STEP]["status"] == "succeeded"
    assert summary["steps"][TRAIN_STEP]["ranks"] == 2  # the timeline in report.html shows it
    assert "x2 ranks" in (run_dir / "report.html").read_text()

    # Saved once, by the master: the report of rank 0, alone in its folder.
    folder = Path(summary["job_outputs"][REPORT])
    assert sorted(path.name for path in folder.iterdir()) == ["_kedro_azureml.json", "data.json"]
    report = load_object(str(folder))
    assert report["world_size"] == 2
    assert report["rank"] == 0
    # Both ranks joined the all-gathers; each trained on its own shard (different losses)
    # and still ended with identical weights, which only the gradient all-reduce explains.
    losses, checksums = report["loss_by_rank"], report["weights_sha256_by_rank"]
    assert len(losses) == 2 and losses[0] != losses[1]
    assert len(checksums) == 2 and checksums[0] == checksums[1]

    # Each rank logged its own view into the step's log.
    log = Path(summary["steps"][TRAIN_STEP]["log"]).read_text()
    logged = {int(rank): (int(world), sha) for rank, world, sha in LOG_LINE.findall(log)}
    assert logged == {0: (2, checksums[0]), 1: (2, checksums[0])}
