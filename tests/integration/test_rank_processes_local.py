"""Distributed steps of ``run --local``: each rank runs as its own process, as on Azure ML.

The launches themselves (which environment each rank gets) are unit-tested in
tests/unit/test_distributed.py; here the runner starts real processes (and one real gloo
process group, which needs torch).
"""

from __future__ import annotations

import json
import os
import stat
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from kedro_azureml.contract.storage_paths import METADATA_FILE
from kedro_azureml.errors import KedroAzureMLError
from kedro_azureml.local.job import LocalStep
from kedro_azureml.local.ranks import rank_launches
from kedro_azureml.local.runner import LocalJobRunner
from tests.support.local_steps import rank_step

# Each rank writes what identifies it into the step's output folder.
RANK_REPORT = (
    f"{sys.executable} -c "
    + json.dumps(
        "import json, os, sys; "
        "keys = ('RANK', 'WORLD_SIZE', 'OMPI_COMM_WORLD_RANK', 'TF_CONFIG'); "
        "env = {k: os.environ[k] for k in keys if k in os.environ}; "
        "name = os.environ.get('RANK') or os.environ.get('OMPI_COMM_WORLD_RANK') "
        "or str(json.loads(os.environ['TF_CONFIG'])['task']['index']); "
        "open(os.path.join(sys.argv[1], name + '.json'), 'w').write(json.dumps(env)); "
        # rank 0 marks the output complete, for this run, as the step's datasets would
        "name == '0' and open(os.path.join(sys.argv[1], '_kedro_azureml.json'), 'w')"
        ".write(json.dumps({'job_run_id': os.environ['AZUREML_ROOT_RUN_ID']}))"
    )
    + " ${{outputs.out}}"
)

FAKE_MPIRUN = textwrap.dedent(
    """\
    #!/usr/bin/env bash
    # Stand-in for Open MPI's mpirun: runs the program -np times with OMPI_COMM_WORLD_RANK set.
    while [ "${1#--}" != "$1" ]; do shift; done
    [ "$1" = "-np" ] || { echo "expected -np, got $1" >&2; exit 9; }
    np=$2; shift 2
    for ((rank = 0; rank < np; rank++)); do OMPI_COMM_WORLD_RANK=$rank "$@" & done
    wait
    """
)


def _run_step(step: LocalStep, tmp_path: Path) -> tuple[Any, dict[str, dict[str, str]]]:
    runner = LocalJobRunner([step], run_dir=tmp_path / "run", project_dir=tmp_path, max_workers=1)
    result = runner.run().steps[step.name]
    out = runner.output_folder(step.name, "out")
    if result.status == "succeeded":  # the run-unique completion marker
        assert json.loads((out / METADATA_FILE).read_text())["job_run_id"].startswith("local-")
    reports = {
        path.stem: json.loads(path.read_text())
        for path in sorted(out.glob("*.json"))
        if path.name != METADATA_FILE
    }
    return result, reports


def test_tensorflow_gives_each_worker_its_tf_config(tmp_path: Path) -> None:
    # What 2 nodes x 2 processes compile to (tests/unit/test_distributed.py checks that).
    distribution = {"type": "tensorflow", "parameter_server_count": 0, "worker_count": 4}
    step = rank_step(distribution, 2, RANK_REPORT)
    result, reports = _run_step(step, tmp_path)
    assert result.status == "succeeded", result.log_path.read_text()
    assert sorted(reports) == ["0", "1", "2", "3"]
    configs = {name: json.loads(report["TF_CONFIG"]) for name, report in reports.items()}
    cluster = configs["0"]["cluster"]
    assert len(cluster["worker"]) == 4 and len(set(cluster["worker"])) == 4
    for name, config in configs.items():
        assert config == {"cluster": cluster, "task": {"type": "worker", "index": int(name)}}


def test_pytorch_ranks_run_as_processes(tmp_path: Path) -> None:
    step = rank_step({"type": "pytorch", "process_count_per_instance": 1}, 3, RANK_REPORT)
    result, reports = _run_step(step, tmp_path)
    assert result.status == "succeeded", result.log_path.read_text()
    assert reports == {str(r): {"RANK": str(r), "WORLD_SIZE": "3"} for r in range(3)}


def test_mpi_runs_through_mpirun(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    mpirun = bin_dir / "mpirun"
    mpirun.write_text(FAKE_MPIRUN)
    mpirun.chmod(mpirun.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin")
    step = rank_step({"type": "mpi", "process_count_per_instance": 2}, 2, RANK_REPORT)
    argv, _ = rank_launches(step, "cmd", dict(os.environ))[0]
    assert argv == [
        str(mpirun),
        "--allow-run-as-root",
        "--oversubscribe",
        "-np",
        "4",
        "bash",
        "-c",
        "cmd",
    ]
    result, reports = _run_step(step, tmp_path)
    assert result.status == "succeeded", result.log_path.read_text()
    assert reports == {str(r): {"OMPI_COMM_WORLD_RANK": str(r)} for r in range(4)}


def test_mpi_without_mpirun_fails_the_step_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    step = rank_step({"type": "mpi", "process_count_per_instance": 1}, 2, "true")
    with pytest.raises(KedroAzureMLError, match="Step 'train' is an MPI job and needs `mpirun`"):
        rank_launches(step, "true", {"PATH": str(empty)})
    result, reports = _run_step(step, tmp_path)
    assert (result.status, result.returncode, reports) == ("failed", None, {})  # never started
    assert "needs `mpirun`" in result.reason
    log = result.log_path.read_text()
    assert "Step 'train' is an MPI job and needs `mpirun` to run locally" in log
    assert "apt-get install openmpi-bin" in log


def test_a_process_group_left_open_by_a_node_is_closed_once(tmp_path: Path) -> None:
    """A live gloo group at interpreter exit can abort the rank: the step closes it."""
    import torch.distributed as dist

    from kedro_azureml.distributed.teardown import release_process_group

    store = dist.FileStore(str(tmp_path / "store"), 1)
    dist.init_process_group("gloo", store=store, rank=0, world_size=1)
    assert dist.is_initialized()
    assert release_process_group() is True
    assert not dist.is_initialized()
    assert release_process_group() is False
