"""The local runner on steps that are plain bash commands: real processes, no Kedro."""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import threading
import time
from pathlib import Path

import pytest

from kedro_azureml.contract.storage_paths import is_run_id
from kedro_azureml.errors import KedroAzureMLError
from kedro_azureml.local.run_folder import (
    RunRecord,
    find_run,
    read_run_record,
    run_folder_lock,
    succeeded_steps,
)
from kedro_azureml.local.runner import STOP_GRACE_VARIABLE
from kedro_azureml.local.snapshots import (
    OWNER_FILE,
    LocalSnapshots,
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
        'echo \'{"job_run_id": "local-other"}\' > ${{outputs.out}}/_kedro_azureml.json',
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


def test_a_snapshot_no_step_runs_in_goes_with_its_listing(tmp_path: Path) -> None:
    """``run --local`` snapshots the project before the job is compiled, on a guess; when no
    step runs in that snapshot, the run folder must not list it among what the steps saw."""

    def copy(code: Path, destination: Path) -> tuple[list[str], None]:
        shutil.copytree(code, destination)
        return sorted(path.name for path in code.iterdir()), None

    codes = {}
    for name in ("guessed/project", "other/src", "used/src"):  # guesses first, as in a run
        codes[name] = tmp_path / name
        codes[name].mkdir(parents=True)
        (codes[name] / "f.txt").write_text(name)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    snapshots = LocalSnapshots("local-1", run_dir, copy, home=tmp_path / "home")
    made = {name: snapshots.path_for(code) for name, code in codes.items()}

    snapshots.keep_only([codes["used/src"]])

    assert not made["guessed/project"].exists() and not made["other/src"].exists()
    assert (made["used/src"] / "f.txt").read_text() == "used/src"
    # other/src is named like the kept one: the listing is the kept snapshot's
    assert sorted(path.name for path in run_dir.glob("snapshot-*")) == ["snapshot-src.txt"]
    assert f"The files of {codes['used/src']} " in (run_dir / "snapshot-src.txt").read_text()
    assert snapshots.path_for(codes["used/src"]) == made["used/src"]
    assert snapshots.path_for(codes["other/src"]) not in made.values()  # a new one


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


# --- Run folders and --resume ------------------------------------------------------------------
def test_a_running_run_cannot_be_resumed_alongside(tmp_path: Path) -> None:
    with (
        run_folder_lock(tmp_path),
        pytest.raises(KedroAzureMLError, match="is still running"),
        run_folder_lock(tmp_path),
    ):
        pass
    with run_folder_lock(tmp_path):  # free again once the first runner is done
        pass


def test_resume_finds_the_latest_run_or_the_one_named(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    for name, started in (("20260101-000000-b", 2.0), ("20260102-000000-a", 1.0)):
        (runs / name).mkdir(parents=True)
        RunRecord("local-" + name[-1], "0" * 64, "p", started=started).write(runs / name)
    (runs / "20260103-000000-never-started").mkdir()
    assert find_run(runs, "latest") == runs / "20260101-000000-b"
    assert find_run(runs, "20260102-000000-a") == (runs / "20260102-000000-a").resolve()
    assert read_run_record(find_run(runs, str(runs / "20260102-000000-a"))).run_id == "local-a"
    with pytest.raises(KedroAzureMLError, match="No run 'nope' to resume"):
        find_run(runs, "nope")
    with pytest.raises(KedroAzureMLError, match=r"has no run\.json: it is not a run folder"):
        read_run_record(runs / "20260103-000000-never-started")


def test_a_resumed_run_reuses_only_steps_whose_outputs_are_complete(tmp_path: Path) -> None:
    count = tmp_path / "count"
    first = bash_step("first", f"echo x >> {count} && {MARK_OUT}")
    second = bash_step("second", MARK_OUT)
    runner = bash_runner(tmp_path, first, second, run_id="local-r")
    assert runner.run().succeeded
    assert succeeded_steps(tmp_path / "run") == {"first", "second"}
    # "second"'s output went missing since: it runs again, "first" is reused.
    (runner.output_folder("second", "out") / "_kedro_azureml.json").unlink()
    again = bash_runner(tmp_path, first, second, run_id="local-r", reuse={"first", "second"})
    result = again.run()
    assert result.succeeded
    assert result.steps["first"].reason == "reused from an earlier attempt"
    assert result.steps["second"].reason == ""
    assert count.read_text() == "x\n"
