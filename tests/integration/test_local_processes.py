"""run --local's step processes across processes: a killed runner, runs that start together.

The steps are plain bash commands (no Kedro), the runners real processes.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.local_steps import kill_leftovers, wait_gone, written_pids

pytestmark = pytest.mark.slow

RUNNER_SCRIPT = """
import sys
from pathlib import Path
sys.path.insert(0, {tests!r})
from tests.support.local_steps import bash_runner, hanging_job
bash_runner(Path({tmp!r}), *hanging_job(Path({pids!r}))).run()
"""


def test_kill_9_of_the_runner_leaves_no_step_process(tmp_path: Path) -> None:
    pids_dir = tmp_path / "pids"
    pids_dir.mkdir()
    script = RUNNER_SCRIPT.format(
        tests=str(Path(__file__).parents[2]), tmp=str(tmp_path), pids=str(pids_dir)
    )
    runner = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    seen: list[int] = []
    try:
        seen = written_pids(pids_dir, 4)
        runner.kill()  # SIGKILL: no handler, no cleanup in the runner itself
        runner.wait()
        left = wait_gone(seen)
    finally:
        runner.kill()
        kill_leftovers(seen)
    assert len(seen) == 4 and left == []


# --- Concurrent starts --------------------------------------------------------------------------
BARRIER = """
import sys, time
from pathlib import Path
start = float(sys.argv[1])
while time.time() < start:
    pass
"""


def _start_together(code: str, count: int, cwd: Path) -> list[str]:
    """Run ``code`` in ``count`` processes that all begin at the same instant; their outputs."""
    start = time.time() + 3
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", BARRIER + code, str(start), str(i)],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for i in range(count)
    ]
    return [process.communicate(timeout=120)[0].strip() for process in processes]


def test_runs_started_in_the_same_second_get_their_own_folders(tmp_path: Path) -> None:
    """8 processes each start 50 runs at once: every start gets a folder of its own."""
    code = (
        "from kedro_azureml.commands.run_local import new_run_dir\n"
        "for _ in range(50):\n"
        "    print(new_run_dir(Path('.').resolve(), 'data/proc'))\n"
    )
    folders = [line for out in _start_together(code, 8, tmp_path) for line in out.splitlines()]
    assert len(set(folders)) == 400, [line for line in folders if "Error" in line][:3]
    assert {Path(folder).parent for folder in folders} == {tmp_path / ".kedro-azureml" / "runs"}


def test_runs_starting_together_share_one_mlflow_store_safely(tmp_path: Path) -> None:
    pytest.importorskip("mlflow")
    code = (
        "from kedro_azureml.local.tracking import start_local_tracking\n"
        "root = Path('.kedro-azureml').resolve()\n"
        "tracking = start_local_tracking({'experiment_name': 'exp'}, runs_root=root, "
        "run_dir=root / sys.argv[2])\n"
        "tracking.end('FINISHED')\n"
        "print('ok', tracking.run_id)\n"
    )
    outputs = _start_together(code, 3, tmp_path)
    assert [out.splitlines()[-1].split()[0] for out in outputs] == ["ok"] * 3, outputs
    from mlflow.tracking import MlflowClient

    from kedro_azureml.local.tracking import own_store_uri

    client = MlflowClient(own_store_uri(tmp_path / ".kedro-azureml"))
    runs = client.search_runs([client.get_experiment_by_name("exp").experiment_id])
    assert sorted(run.info.status for run in runs) == ["FINISHED"] * 3
