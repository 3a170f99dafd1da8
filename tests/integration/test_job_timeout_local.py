"""`run --local` enforces a job's limits.timeout: the step and all it started are stopped."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.support.kedro_projects import kedro, last_run, set_grouping

pytestmark = pytest.mark.slow

REGISTRY = """
import os
import subprocess
import time

from kedro.pipeline import Pipeline, node, pipeline


def hang(pid_file):
    child = subprocess.Popen(["sleep", "300"])  # a grandchild of the step's shell
    with open(pid_file, "w") as stream:
        stream.write(str(child.pid))
    time.sleep(300)
    return 1


def after(value):
    return value


def quick():
    return 2


def register_pipelines() -> dict[str, Pipeline]:
    return {
        "__default__": pipeline(
            [
                node(hang, "params:pid_file", "hung", name="hang"),
                node(after, "hung", "after_out", name="after"),
                node(quick, None, "quick_out", name="quick"),
            ]
        )
    }
"""

JOBS = """
jobs:
  limited:
    limits: {timeout: 60}
    grouping: none
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"  # not a zombie


def test_a_step_over_its_timeout_is_stopped_with_all_it_started(
    blank_project: Path, tmp_path: Path
) -> None:
    pid_file = tmp_path / "child.pid"
    (blank_project / "src" / "demo" / "pipeline_registry.py").write_text(REGISTRY)
    (blank_project / "conf" / "base" / "parameters.yml").write_text(f"pid_file: {pid_file}\n")
    kedro(blank_project, "azureml", "init", "rg", "ws", "exp", "cpu", "env@latest")
    set_grouping(blank_project, "none")  # hang, after and quick each a step of its own
    with (blank_project / "conf" / "base" / "azureml.yml").open("a") as stream:
        stream.write(JOBS)

    result = kedro(
        blank_project, "azureml", "run", "--local", "--no-mlflow", "-j", "limited", check=False
    )

    assert result.returncode == 1, result.stdout + result.stderr
    steps = json.loads((last_run(blank_project) / "summary.json").read_text())["steps"]
    assert steps["hang"]["status"] == "timed out"
    assert "exceeded its limits.timeout of 60s" in steps["hang"]["reason"]
    assert steps["after"]["status"] == "skipped"
    assert steps["quick"]["status"] == "succeeded"
    assert pid_file.exists(), "the step timed out before its node started: raise the limit"
    assert not _alive(int(pid_file.read_text()))  # the whole process group was stopped
    assert "timed out" in result.stdout
