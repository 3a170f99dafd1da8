"""Warm starts of run --local steps: forked from an interpreter that already imported Kedro and
the project, yet each step as isolated as a cold one, with the same command line, folder and
environment; ``--cold-start`` and ``KEDRO_AZUREML_COLD_START=1`` switch them off."""

from __future__ import annotations

import os
import re
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from kedro_azureml.step.serialization import load_object
from tests.support.kedro_projects import kedro, last_run, new_project

INIT = ["azureml", "init", "rg", "ws", "exp", "cpu-cluster", "kedro-env@latest"]

STATE = '''"""A module global that one step sets; no other step may see it."""

SEEN: list[str] = []
'''

PIPELINE = """
import logging
import os
import random
import sys
from pathlib import Path

from kedro.pipeline import Pipeline, node, pipeline

from demo import state

if os.environ.get("PRINT_WHILE_IMPORTING"):
    print("printed while importing the pipeline registry")


def _process(label):
    main = sys.modules["__main__"]
    return {
        "label": label,
        "seen": list(state.SEEN),
        "started_by": getattr(getattr(main, "__spec__", None), "name", None),
        "argv": list(sys.argv),
        "cwd": os.getcwd(),
        "env": dict(os.environ),
        "random": random.random(),
        "pid": os.getpid(),
    }


def first(factor):
    state.SEEN.append("first")
    return _process("first")


def second(upstream):
    return _process("second")


def third(factor):
    return _process("third")


def leave(started_by_file):
    Path(started_by_file).write_text(str(_process("leave")["started_by"]))
    print("printed by the node")
    logging.getLogger(__name__).warning("logged by the node")
    sys.stdout.flush()
    os._exit(0)  # exits 0 before its output is saved: the runner writes its own error


def register_pipelines() -> dict[str, Pipeline]:
    return {
        "__default__": pipeline(
            [
                node(first, "params:factor", "upstream", name="first"),
                node(second, "upstream", "downstream", name="second"),
                node(third, "params:factor", "independent", name="third"),
            ]
        ),
        "early": pipeline([node(leave, "params:started_by_file", "never_saved", name="leave")]),
    }
"""

# Differ from one run or step to the next, whatever the start.
PER_RUN = {"MLFLOW_RUN_ID", "AZUREML_RUN_ID", "AZUREML_ROOT_RUN_ID"}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = new_project(tmp_path_factory.mktemp("warm"))
    package = root / "src" / "demo"
    (package / "state.py").write_text(STATE)
    (package / "pipeline_registry.py").write_text(textwrap.dedent(PIPELINE))
    (root / "conf" / "base" / "parameters.yml").write_text("factor: 3\n")
    kedro(root, *INIT)
    return root


def _run(project: Path, *args: str, **env: str) -> dict[str, dict[str, Any]]:
    kedro(project, "azureml", "run", "--local", "--group-by", "none", *args, **env)
    run = last_run(project)
    return {
        name: load_object(str(run / "outputs" / name)) for name in ("downstream", "independent")
    } | {"run": {"folder": str(run)}}


def _comparable(seen: dict[str, Any], run_folder: str) -> dict[str, Any]:
    """What a step saw, without what differs from run to run (ids, run folder, snapshot)."""

    run_id = seen["env"]["AZUREML_ROOT_RUN_ID"]  # names the snapshot folder too

    def strip(text: str) -> str:
        return text.replace(run_folder, "<run>").replace(run_id, "<run id>")

    env = {k: strip(v) for k, v in seen["env"].items() if k not in PER_RUN}
    return {"argv": [strip(a) for a in seen["argv"]], "cwd": strip(seen["cwd"]), "env": env}


def test_a_module_global_set_by_one_step_never_reaches_the_next(project: Path) -> None:
    outputs = _run(project)

    for name in ("downstream", "independent"):
        assert outputs[name]["started_by"] == "kedro_azureml.local.zygote"  # a warm start
        assert outputs[name]["seen"] == []  # `first` appended to state.SEEN in its own step
    # Each step draws its own random state, as a fresh process does.
    assert outputs["downstream"]["random"] != outputs["independent"]["random"]
    assert outputs["downstream"]["pid"] != outputs["independent"]["pid"]


@pytest.mark.parametrize(
    ("args", "env"),
    [(["--cold-start"], {}), ([], {"KEDRO_AZUREML_COLD_START": "1"})],
    ids=["option", "variable"],
)
def test_the_cold_switch_starts_every_step_as_a_fresh_process(
    project: Path, args: list[str], env: dict[str, str]
) -> None:
    outputs = _run(project, *args, **env)

    for name in ("downstream", "independent"):
        assert outputs[name]["started_by"] is None  # the `kedro` script, not the zygote
        assert outputs[name]["seen"] == []


def test_steps_start_cold_when_importing_the_project_prints(project: Path) -> None:
    """A forked step would not print it again: its log would lack what a cold one shows."""
    result = kedro(
        project,
        *("azureml", "run", "--local", "--group-by", "none", "--no-mlflow"),
        *("--env-var", "PRINT_WHILE_IMPORTING=1"),
    )
    run = last_run(project)

    assert "Steps start cold, as with --cold-start: importing the plugins or the project's" in (
        " ".join((result.stdout + result.stderr).split())
    )
    assert load_object(str(run / "outputs" / "downstream"))["started_by"] is None
    log = (run / "logs" / "second.log").read_text()
    assert "printed while importing the pipeline registry" in log


def test_a_warm_step_gets_the_command_line_folder_and_environment_of_a_cold_one(
    project: Path,
) -> None:
    warm = _run(project)
    cold = _run(project, "--cold-start")

    for name in ("downstream", "independent"):
        seen_warm = _comparable(warm[name], warm["run"]["folder"])
        seen_cold = _comparable(cold[name], cold["run"]["folder"])
        assert seen_warm["argv"] == seen_cold["argv"]
        assert seen_warm["cwd"] == seen_cold["cwd"]
        assert seen_warm["env"] == seen_cold["env"]
        assert seen_warm["env"]["PWD"] == seen_warm["cwd"]


def test_the_mlflow_store_opens_once_the_warm_interpreters_are_warming(tmp_path: Path) -> None:
    """The runner opens the store itself, after starting the warm-ups, and only then the steps:
    each step still gets its own MLflow run's variables."""
    from kedro_azureml.local.tracking import LocalTracking
    from tests.support.local_steps import MARK_OUT, bash_runner, bash_step

    events: list[str] = []

    class Client:
        def create_run(self, experiment_id: str, **kwargs: Any) -> Any:
            from types import SimpleNamespace

            events.append("step run")
            return SimpleNamespace(info=SimpleNamespace(run_id=f"run-{len(events)}"))

        def set_terminated(self, run_id: str, status: str) -> None:
            events.append(f"end {status}")

    def open_tracking() -> LocalTracking:
        events.append("store opened")
        return LocalTracking(Client(), "sqlite:///x.db", "7", "parent")

    step = bash_step("s", f"echo $MLFLOW_RUN_ID > ${{{{outputs.out}}}}/run && {MARK_OUT}")
    runner = bash_runner(tmp_path, step, open_tracking=open_tracking, warm_start=True)
    original = runner.processes.prepare_warm_only

    def prepare_warm_only(needed: Sequence[tuple[Path, dict[str, str]]]) -> None:
        events.append("warming")
        for _, env in needed:  # the zygote never gets them
            assert not any(key.startswith("MLFLOW_") for key in env)
        original(needed)

    runner.processes.prepare_warm_only = prepare_warm_only  # type: ignore[method-assign]
    result = runner.run()

    assert result.succeeded, result.steps["s"].reason
    assert events[:3] == ["warming", "store opened", "step run"]
    assert result.tracking is not None
    step_run = result.tracking.step_runs["s"]
    assert (runner.output_folder("s", "out") / "run").read_text().strip() == step_run


def _step_log(project: Path, *args: str) -> tuple[list[str], str]:
    """The ``leave`` step's log, line by line, without what differs from run to run (the run
    folder, times, durations), and what started the step."""
    started_by = project / "started_by"
    result = kedro(
        project,
        *("azureml", "run", "--local", "-p", "early", "--no-mlflow", *args),
        *("--params", f"started_by_file={started_by}"),
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    run = last_run(project)
    text = (run / "logs" / "leave.log").read_text().replace(str(run), "<run>")
    text = re.sub(r"\[\d\d/\d\d/\d\d \d\d:\d\d:\d\d\]", "", text)  # rich's time column
    lines = [" ".join(re.sub(r"\d+(\.\d+)?", "N", line).split()) for line in text.splitlines()]
    return [line for line in lines if line], started_by.read_text()


def test_a_warm_steps_log_is_ordered_as_a_cold_ones(project: Path) -> None:
    """The runner's error comes after the step's own output, which stays whole: the runner
    once overwrote the start of a warm step's log (the step's own file offset), so its error
    came first and the rest of the step's output after it."""
    warm, warm_start = _step_log(project)
    cold, cold_start = _step_log(project, "--cold-start")

    assert (warm_start, cold_start) == ("kedro_azureml.local.zygote", "None")
    assert warm == cold
    assert warm[0].startswith("$ kedro azureml execute ")
    assert warm[-1].startswith("kedro-azureml: StepOutputError: exited N but ")
    marked = [i for i, line in enumerate(warm) if line.startswith("kedro-azureml: ")]
    assert marked == list(range(marked[0], len(warm)))  # the runner's lines, last
    own = warm[: marked[0]]
    assert any("logged by the node" in line for line in own)
    assert own[-2:] == ["printed by the node", "WARNING logged by the node pipeline_registry.py:N"]


def test_a_zygote_no_step_needs_is_ended_and_a_needed_one_kept(tmp_path: Path) -> None:
    """``run --local`` starts a zygote on a guess before the job is compiled; once the steps'
    folders and environments are known, one they do not need must not run on beside them."""
    from kedro_azureml.local.warm_start import WarmStarts

    env = {"PATH": os.environ["PATH"]}
    guessed, needed = tmp_path / "guessed", tmp_path / "needed"
    guessed.mkdir()
    needed.mkdir()
    warm = WarmStarts()
    try:
        warm.prepare(guessed, env)
        warm.prepare(needed, env)
        kept = warm._zygote(needed, env)
        ended = warm._zygote(guessed, env)

        warm.prepare_only([(needed, {**env, "MLFLOW_RUN_ID": "per step"})])

        assert ended._process.poll() is not None
        assert kept._process.poll() is None
        assert warm._zygote(needed, env) is kept
    finally:
        warm.close()
