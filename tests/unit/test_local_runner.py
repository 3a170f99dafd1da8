"""The local runner on steps that are plain bash commands: real processes, no Kedro."""

from __future__ import annotations

import json
import os
import signal
import tempfile
import threading
import time
from pathlib import Path

import pytest

from kedro_azureml.contract.storage_paths import is_run_id
from kedro_azureml.errors import KedroAzureMLError
from kedro_azureml.local.runner import STOP_GRACE_VARIABLE
from kedro_azureml.local.snapshots import (
    OWNER_FILE,
    kedro_project_above,
    remove_abandoned,
    snapshots_home,
)
from tests.support.local_steps import (
    HANG,
    MARK_OUT,
    alive,
    bash_runner,
    bash_step,
    hanging_job,
    kill_leftovers,
    wait_gone,
    written_pids,
)


def test_every_run_gets_its_own_random_id(tmp_path: Path) -> None:
    ids = {bash_runner(tmp_path / str(i), bash_step("s", MARK_OUT)).run_id for i in range(20)}
    assert len(ids) == 20
    assert all(is_run_id(run_id) and run_id.startswith("local-") for run_id in ids)


def test_steps_see_the_run_id_as_azure_ml_sets_it(tmp_path: Path) -> None:
    step = bash_step(
        "env",
        f'echo "$AZUREML_ROOT_RUN_ID $AZUREML_RUN_ID" > ${{{{outputs.out}}}}/ids && {MARK_OUT}',
    )
    runner = bash_runner(tmp_path, step, run_id="local-abc")
    result = runner.run()
    assert result.succeeded, result.steps["env"].reason
    ids = (runner.output_folder("env", "out") / "ids").read_text().split()
    assert ids == ["local-abc", "local-abc_env"]
    assert json.loads(result.to_json())["run_id"] == "local-abc"


def test_an_output_marked_by_another_run_fails_the_step(tmp_path: Path) -> None:
    produce = bash_step(
        "produce",
        "echo 1 > ${{outputs.out}}/data.txt && "
        'echo \'{"run_id": "local-other"}\' > ${{outputs.out}}/_kedro_azureml.json',
    )
    consume = bash_step(
        "consume",
        f"cat ${{{{inputs.src}}}}/data.txt && {MARK_OUT}",
        inputs={"src": ("produce", "out")},
    )
    result = bash_runner(tmp_path, produce, consume, run_id="local-mine").run()
    assert result.steps["produce"].status == "failed"
    assert result.steps["produce"].returncode == 0
    assert (
        "output 'out' was written by run local-other, not by this run (local-mine)"
        in result.steps["produce"].reason
    )
    assert result.steps["consume"].status == "skipped"


def test_snapshots_go_where_no_kedro_project_encloses_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    (project / "tmp").mkdir(parents=True)
    (project / "pyproject.toml").write_text("[tool.kedro]\npackage_name = 'demo'\n")
    monkeypatch.setattr(tempfile, "tempdir", str(project / "tmp"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    home = snapshots_home()
    assert home.parent == tmp_path / "cache" / "kedro-azureml"
    assert kedro_project_above(home) is None
    monkeypatch.setenv("XDG_CACHE_HOME", str(project / "cache"))
    with pytest.raises(KedroAzureMLError, match="Set TMPDIR to a folder outside every Kedro"):
        snapshots_home()


def test_snapshots_of_dead_runners_are_removed(tmp_path: Path) -> None:
    abandoned, alive = tmp_path / "abandoned", tmp_path / "alive"
    # 2**22 + 1 is above the largest pid Linux hands out: that runner is gone.
    for folder, pid in ((abandoned, 2**22 + 1), (alive, os.getpid())):
        folder.mkdir()
        (folder / OWNER_FILE).write_text(str(pid))
    remove_abandoned(tmp_path)
    assert not abandoned.exists()
    assert alive.is_dir()


# --- Interrupts -------------------------------------------------------------------------------
def test_ctrl_c_stops_every_rank_and_what_it_started(tmp_path: Path) -> None:
    pids_dir = tmp_path / "pids"
    pids_dir.mkdir()
    runner = bash_runner(tmp_path, *hanging_job(pids_dir))
    seen: list[int] = []

    def press_ctrl_c() -> None:
        seen.extend(written_pids(pids_dir, 4))
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=press_ctrl_c, daemon=True).start()
    try:
        result = runner.run()
        left = wait_gone(seen)
    finally:
        kill_leftovers(seen)
    assert len(seen) == 4 and left == []  # both ranks, and the child each one started
    assert (result.interrupted_by, result.exit_code) == (signal.SIGINT, 130)
    assert result.steps["hang"].status == "interrupted"
    assert result.steps["hang"].reason == "interrupted by Ctrl-C"
    assert result.steps["after"].status == "skipped"
    assert json.loads(result.to_json())["interrupted"] is True


def test_a_second_ctrl_c_kills_steps_that_ignore_the_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(STOP_GRACE_VARIABLE, "3600")  # only the second Ctrl-C can end it
    pids_dir = tmp_path / "pids"
    pids_dir.mkdir()
    (hang, _) = hanging_job(pids_dir, ranks=1)
    hang.command = f"trap '' INT; {HANG}"  # the child inherits the ignored SIGINT
    notices: list[str] = []
    runner = bash_runner(tmp_path, hang, on_notice=notices.append)
    seen: list[int] = []

    def press_ctrl_c_twice() -> None:
        seen.extend(written_pids(pids_dir, 2))
        os.kill(os.getpid(), signal.SIGINT)
        end = time.monotonic() + 60
        while not notices and time.monotonic() < end:
            time.sleep(0.05)
        assert all(alive(pid) for pid in seen)  # the first Ctrl-C was ignored...
        os.kill(os.getpid(), signal.SIGINT)  # ...the second is not asked
        if wait_gone(seen):  # keep the test bounded even if the runner fails to kill
            kill_leftovers(seen)
            notices.append("test had to kill the step")

    threading.Thread(target=press_ctrl_c_twice, daemon=True).start()
    result = runner.run()
    assert wait_gone(seen) == []
    assert "test had to kill the step" not in notices
    assert notices[0].startswith("Interrupted by Ctrl-C: stopping 1 running step process(es)")
    assert notices[1] == "Killed every step process."
    assert result.steps["hang"].status == "interrupted"
    assert result.exit_code == 130
