"""run --local under faults: what steps may see, early exits, interrupts, resumes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest

from kedro_azureml.step.serialization import load_object
from tests.support.kedro_projects import BIN, kedro, last_run, quiet_env, set_grouping
from tests.support.local_steps import kill_leftovers, wait_gone, written_pids

pytestmark = pytest.mark.slow

INIT = ["azureml", "init", "rg", "ws", "exp", "cpu-cluster", "kedro-env@latest"]


def _init(project: Path) -> None:
    """`init`, with one node per step: these tests fail, stop and resume particular steps."""
    kedro(project, *INIT)
    set_grouping(project, "none")


def _add_pipelines(project: Path, code: str) -> None:
    """Append ``code`` to the small project's registry; it may wrap ``register_pipelines``."""
    registry = project / "src" / "demo" / "pipeline_registry.py"
    registry.write_text(registry.read_text() + "\n\n_small_pipelines = register_pipelines\n" + code)


WHERE = """
def where(scaled):
    import os

    import demo

    return {"cwd": os.getcwd(), "package": demo.__file__}


def register_pipelines():
    pipelines = _small_pipelines()
    pipelines["where"] = pipelines["__default__"] + pipeline(
        [node(where, "scaled", "where", name="where")]
    )
    return pipelines
"""


def test_steps_run_in_a_snapshot_outside_the_project(small_project: Path) -> None:
    _add_pipelines(small_project, WHERE)
    _init(small_project)
    kedro(small_project, "azureml", "run", "--local", "-p", "where", "--no-mlflow")
    seen = load_object(str(last_run(small_project) / "outputs" / "where"))
    cwd, package = Path(seen["cwd"]), Path(seen["package"])
    assert package == cwd / "src" / "demo" / "__init__.py"  # the snapshot's own package
    assert small_project not in cwd.parents  # not a folder Kedro could climb out of
    assert not cwd.exists()  # removed with the run


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("*.toml", "pyproject.toml is excluded by .amlignore line {n} (`*.toml`)"),
        ("src/", "the package src/demo/ is excluded by .amlignore line {n} (`src/`)"),
        ("conf/", "conf/base/ is excluded by .amlignore line {n} (`conf/`)"),
    ],
    ids=["pyproject", "package", "conf-base"],
)
def test_a_snapshot_kedro_cannot_run_is_refused(
    small_project: Path, rule: str, message: str
) -> None:
    _init(small_project)
    kedro(small_project, "azureml", "compile", "-o", "pipeline.yaml")  # before the bad rule
    ignore = small_project / ".amlignore"
    ignore.write_text(ignore.read_text() + f"{rule}\n")
    expected = message.format(n=len(ignore.read_text().splitlines()))
    for command in (
        ["compile"],
        ["run", "--local", "--no-mlflow"],
        ["run", "--local", "--no-mlflow", "--from-yaml", "pipeline.yaml"],
    ):
        result = kedro(small_project, "azureml", *command, check=False)
        output = result.stdout + result.stderr
        assert result.returncode == 1, output
        # Without conf/base, compiling stops earlier, at the check that the steps' Kedro env
        # is uploaded; --from-yaml does not compile, so the snapshot check says it.
        env_refused = (
            "Kedro environment 'base' cannot be used on Azure ML: conf/base/ is left out of the "
            "code upload"
        )
        if rule == "conf/" and "--from-yaml" not in command:
            assert env_refused in " ".join(output.split()), output
        else:
            assert "cannot run a Kedro step" in output and expected in output, output
        assert "Traceback" not in output


EXITS = """
def exit_cleanly(scaled):
    import sys

    sys.exit(0)


def exit_hard(scaled):
    import os

    os._exit(0)  # no exception, no cleanup: only the runner can notice


def register_pipelines():
    pipelines = _small_pipelines()
    pipelines["exit_last"] = pipelines["__default__"] + pipeline(
        [node(exit_cleanly, "scaled", "never_written", name="exit_last")]
    )
    pipelines["exit_first"] = pipeline(
        [
            node(exit_cleanly, "numbers", "scaled", name="exit_first"),
            node(summarise, "scaled", "summary", name="summarise"),
        ]
    )
    pipelines["exit_hard"] = pipelines["__default__"] + pipeline(
        [node(exit_hard, "scaled", "never_written", name="exit_hard")]
    )
    return pipelines
"""


@pytest.mark.parametrize(
    ("pipeline", "step", "reason"),
    [
        (
            "exit_last",
            "exit_last",
            "Node 'exit_last' called sys.exit(0) before the step finished; output(s) not "
            "written: never_written",
        ),
        ("exit_first", "exit_first", "Node 'exit_first' called sys.exit(0)"),
        ("exit_hard", "exit_hard", "exited 0 but output 'never_written' has no completion marker"),
    ],
    ids=["sys.exit-as-last-node", "sys.exit-first", "os._exit"],
)
def test_a_node_that_exits_the_process_fails_its_step(
    small_project: Path, pipeline: str, step: str, reason: str
) -> None:
    _add_pipelines(small_project, EXITS)
    _init(small_project)
    result = kedro(
        small_project, "azureml", "run", "--local", "-p", pipeline, "--no-mlflow", check=False
    )
    assert result.returncode == 1, result.stdout
    run_dir = last_run(small_project)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["succeeded"] is False
    assert summary["steps"][step]["status"] == "failed"
    if step == "exit_first":
        assert summary["steps"]["summarise"]["status"] == "skipped"
    text = summary["steps"][step]["reason"] + (run_dir / "logs" / f"{step}.log").read_text()
    assert reason in text
    assert reason.split(";")[0] in result.stdout  # the tail of the failed step's log


HANG = """
def hang(scaled):
    import os
    import subprocess
    import time
    from pathlib import Path

    child = subprocess.Popen(["sleep", "100000"])  # a hanging step's own child
    folder = Path(os.environ["PIDS"])
    (folder / "child.pid").write_text(str(child.pid))
    (folder / "node.pid").write_text(str(os.getpid()))
    while True:
        time.sleep(1)


def register_pipelines():
    pipelines = _small_pipelines()
    pipelines["hang"] = pipelines["__default__"] + pipeline(
        [
            node(hang, "scaled", "hung", name="hang"),
            node(summarise, "hung", "after_hang", name="after_hang"),
        ]
    )
    return pipelines
"""


RUN_HANG = ["azureml", "run", "--local", "-p", "hang"]


def _start_hanging_run(
    project: Path, pids: Path, *options: str, pipelines: str = HANG, **env: str
) -> subprocess.Popen[str]:
    _add_pipelines(project, pipelines)
    _init(project)
    pids.mkdir()
    return subprocess.Popen(
        [str(BIN / "kedro"), *RUN_HANG, "--env-var", f"PIDS={pids}", *options],
        cwd=project,
        env=quiet_env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )


@pytest.mark.parametrize("to_group", [False, True], ids=["to-runner-pid", "to-process-group"])
def test_ctrl_c_stops_the_run_and_still_reports(
    small_project: Path, tmp_path: Path, to_group: bool
) -> None:
    runner = _start_hanging_run(small_project, tmp_path / "pids")
    seen: list[int] = []
    try:
        seen = written_pids(tmp_path / "pids", 2, deadline=240)
        if to_group:
            os.killpg(runner.pid, signal.SIGINT)
        else:
            os.kill(runner.pid, signal.SIGINT)
        output = runner.communicate(timeout=120)[0]
        left = wait_gone(seen)
    finally:
        runner.kill()
        kill_leftovers(seen)
    assert runner.returncode == 130, output
    assert left == []  # the node's process and the child it started
    assert "Interrupted by Ctrl-C: stopping" in output
    assert "interrupted" in output.split("run --local:")[-1]  # marked in the summary table
    run_dir = last_run(small_project)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["interrupted"] is True and summary["succeeded"] is False
    assert summary["steps"]["hang"]["status"] == "interrupted"
    assert summary["steps"]["after_hang"]["status"] == "skipped"
    from mlflow.tracking import MlflowClient

    client = MlflowClient(summary["mlflow"]["tracking_uri"])
    assert client.get_run(summary["mlflow"]["run_id"]).info.status == "KILLED"
    hang_run = summary["mlflow"]["step_runs"]["hang"]
    assert client.get_run(hang_run).info.status == "KILLED"


def test_kill_9_of_the_runner_leaves_nothing_behind_and_a_rerun_starts_cleanly(
    small_project: Path, tmp_path: Path
) -> None:
    from kedro_azureml.local.snapshots import OWNER_FILE, snapshots_home

    runner = _start_hanging_run(small_project, tmp_path / "pids", "--no-mlflow")
    seen: list[int] = []
    try:
        seen = written_pids(tmp_path / "pids", 2, deadline=240)
        runner.kill()
        runner.communicate(timeout=60)
        left = wait_gone(seen)
    finally:
        kill_leftovers(seen)
    assert left == []

    kedro(small_project, "azureml", "run", "--local", "--no-mlflow")  # the rerun
    assert load_object(str(last_run(small_project) / "outputs" / "report"))["total"] == 165
    owners = {p.read_text() for p in snapshots_home().glob(f"*/{OWNER_FILE}")}
    assert str(runner.pid) not in owners  # the killed run's snapshot was swept


def test_two_runs_at_once_in_one_project_share_nothing_but_the_mlflow_store(
    small_project: Path,
) -> None:
    _init(small_project)
    runs = [
        subprocess.Popen(
            [str(BIN / "kedro"), "azureml", "run", "--local", "--params", f"factor={factor}"],
            cwd=small_project,
            env=quiet_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for factor in (2, 3)
    ]
    outputs = [run.communicate(timeout=600)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert not [out for out in outputs if "MLflow tracking is off" in out], outputs
    folders = sorted((small_project / ".kedro-azureml" / "runs").iterdir())
    assert len(folders) == 2
    totals = sorted(load_object(str(f / "outputs" / "report"))["total"] for f in folders)
    assert totals == [110, 165]
    from mlflow.tracking import MlflowClient

    summaries = [json.loads((f / "summary.json").read_text()) for f in folders]
    client = MlflowClient(summaries[0]["mlflow"]["tracking_uri"])
    statuses = [client.get_run(s["mlflow"]["run_id"]).info.status for s in summaries]
    assert statuses == ["FINISHED", "FINISHED"]


STUCK = '''
class Stuck:
    """Pickling it never ends, deaf to Ctrl-C: the step is killed in the middle of a save."""

    def __reduce__(self):
        import os
        import signal
        import time
        from pathlib import Path

        signal.signal(signal.SIGINT, signal.SIG_IGN)  # no chance to clean up: only SIGKILL
        (Path(os.environ["PIDS"]) / "node.pid").write_text(str(os.getpid()))
        while True:
            time.sleep(1)


def stuck(scaled):
    return Stuck()


def register_pipelines():
    pipelines = _small_pipelines()
    pipelines["hang"] = pipeline(
        [
            node(scale, ["numbers", "params:factor"], "scaled", name="scale"),
            node(stuck, "scaled", "stuck", name="stuck"),
        ]
    )
    return pipelines
'''


def test_a_step_stopped_mid_save_leaves_no_partial_file(
    small_project: Path, tmp_path: Path
) -> None:
    runner = _start_hanging_run(
        small_project,
        tmp_path / "pids",
        "--no-mlflow",
        pipelines=STUCK,
        KEDRO_AZUREML_STOP_GRACE_SECONDS="0",  # killed right after the Ctrl-C it ignores
    )
    seen: list[int] = []
    try:
        seen = written_pids(tmp_path / "pids", 1, deadline=240)
        output_folder = last_run(small_project) / "outputs" / "stuck"
        partials = [p.name for p in output_folder.iterdir() if p.name.endswith(".partial")]
        os.kill(runner.pid, signal.SIGINT)
        output = runner.communicate(timeout=120)[0]
    finally:
        runner.kill()
        kill_leftovers(seen)
    assert runner.returncode == 130, output
    assert len(partials) == 1 and partials[0].startswith(".data.pkl.")  # the save was under way
    run_dir = last_run(small_project)
    assert json.loads((run_dir / "summary.json").read_text())["steps"]["stuck"]["status"] == (
        "interrupted"
    )
    assert [p for p in run_dir.rglob("*") if "partial" in p.name] == []


LONG_NAME = "summarise_" + "the_scaled_numbers_once_more_" * 10  # 300 characters
LONG = f'''
def register_pipelines():
    pipelines = _small_pipelines()
    pipelines["long"] = pipeline(
        [
            node(scale, ["numbers", "params:factor"], "scaled", name="scale"),
            node(summarise, "scaled", "{LONG_NAME}", name="{LONG_NAME}"),
        ]
    )
    return pipelines
'''


def test_a_node_name_too_long_for_a_file_name_runs_and_is_named(small_project: Path) -> None:
    _add_pipelines(small_project, LONG)
    _init(small_project)
    result = kedro(small_project, "azureml", "run", "--local", "-p", "long", "--no-mlflow")
    run_dir = last_run(small_project)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["succeeded"] is True
    (step,) = (name for name in summary["steps"] if name != "scale")
    assert len(step) >= 252 and LONG_NAME.startswith(step)  # the step's whole name...
    log = Path(summary["steps"][step]["log"])
    assert log.is_file() and len(log.name) <= 120  # ...its log a name the file system takes
    assert log.name.startswith(LONG_NAME[:60])
    assert LONG_NAME[:60] in result.stdout  # the table names the node
    (output,) = summary["job_outputs"].values()
    assert load_object(output) == {"sum": 165, "n": 10}


FLAKY = """
def counted_scale(numbers, factor):
    import os
    from pathlib import Path

    with (Path(os.environ["FLAG"]).parent / "scale_runs").open("a") as runs:
        runs.write("x")
    return scale(numbers, factor)


def fragile(scaled):
    import os
    from pathlib import Path

    if not Path(os.environ["FLAG"]).exists():
        raise RuntimeError("not fixed yet")
    return summarise(scaled)


def passthrough(summary):
    return summary


def register_pipelines():
    pipelines = _small_pipelines()
    pipelines["flaky"] = pipeline(
        [
            node(counted_scale, ["numbers", "params:factor"], "scaled", name="scale"),
            node(fragile, "scaled", "summary", name="fragile"),
            node(passthrough, "summary", "final", name="after"),
        ]
    )
    return pipelines
"""


def test_resume_reruns_only_what_did_not_succeed(small_project: Path, tmp_path: Path) -> None:
    _add_pipelines(small_project, FLAKY)
    _init(small_project)
    flag = tmp_path / "fixed"
    run = ["azureml", "run", "--local", "-p", "flaky", "--no-mlflow", "--env-var", f"FLAG={flag}"]
    first = kedro(small_project, *run, check=False)
    assert first.returncode == 1
    assert "kedro azureml run --local --resume" in first.stdout  # says how to finish it
    run_dir = last_run(small_project)
    before = json.loads((run_dir / "summary.json").read_text())
    assert {name: step["status"] for name, step in before["steps"].items()} == {
        "scale": "succeeded",
        "fragile": "failed",
        "after": "skipped",
    }

    flag.write_text("the bug is fixed")
    kedro(small_project, *run, "--resume")
    assert sorted((small_project / ".kedro-azureml" / "runs").iterdir()) == [run_dir]
    after = json.loads((run_dir / "summary.json").read_text())
    assert after["succeeded"] is True and after["run_id"] == before["run_id"]
    assert after["steps"]["scale"]["reason"] == "reused from an earlier attempt"
    assert (tmp_path / "scale_runs").read_text() == "x"  # scale ran once, in the first attempt
    assert load_object(str(run_dir / "outputs" / "final")) == {"sum": 165, "n": 10}

    # The same run folder by name, but a job compiled differently: refused, nothing runs.
    changed = [*run[:-1], f"FLAG={flag}-moved"]
    refused = kedro(small_project, *changed, "--resume", run_dir.name, check=False)
    output = refused.stdout + refused.stderr
    assert refused.returncode == 1
    assert f"Cannot resume run {run_dir.name}: the project (or the options given now)" in output
    assert "compiles to a different job" in output and "Traceback" not in output
    assert json.loads((run_dir / "summary.json").read_text()) == after
