"""Local runner steps that are plain bash commands, and what tests need to watch processes."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path
from typing import Any

from kedro_azureml.local.job import LocalStep
from kedro_azureml.local.runner import LocalJobRunner

# What a step's datasets do last: a completion marker naming the run (from Azure ML's variable).
MARK_OUT = (
    'printf \'{"job_run_id": "%s"}\' "$AZUREML_ROOT_RUN_ID" > ${{outputs.out}}/_kedro_azureml.json'
)


def bash_step(
    name: str,
    command: str,
    *,
    inputs: dict[str, tuple[str, str]] | None = None,
    outputs: tuple[str, ...] = ("out",),
) -> LocalStep:
    return LocalStep(
        name=name,
        display_name=name,
        command=command,
        environment_variables={},
        inputs=inputs or {},
        outputs={port: None for port in outputs},
        code=None,
    )


def bash_runner(tmp_path: Path, *steps: LocalStep, **kwargs: object) -> LocalJobRunner:
    return LocalJobRunner(
        list(steps), run_dir=tmp_path / "run", project_dir=tmp_path, max_workers=2, **kwargs
    )


# A rank that starts a child and waits for it forever; both write their pids to $PIDS.
HANG = (
    'echo $$ > "$PIDS/rank${RANK:-0}.pid"; sleep 100000 & echo $! > "$PIDS/child${RANK:-0}.pid"; '
    "wait"
)


def alive(pid: int) -> bool:
    """Running (a zombie waiting for a reaper that never comes counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def written_pids(folder: Path, count: int, deadline: float = 60.0) -> list[int]:
    """The pids the hanging processes wrote, once all ``count`` are there."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        files = sorted(folder.glob("*.pid"))
        if len(files) == count and all(f.read_text().strip() for f in files):
            return [int(f.read_text()) for f in files]
        time.sleep(0.05)
    raise AssertionError(f"the step never started its {count} processes: {list(folder.iterdir())}")


def wait_gone(pids: list[int], deadline: float = 60.0) -> list[int]:
    end = time.monotonic() + deadline
    while time.monotonic() < end and any(alive(pid) for pid in pids):
        time.sleep(0.05)
    return [pid for pid in pids if alive(pid)]


def kill_leftovers(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def hanging_job(pids: Path, ranks: int = 2) -> list[LocalStep]:
    hang = bash_step("hang", HANG)
    hang.environment_variables = {"PIDS": str(pids)}
    hang.distribution, hang.instance_count = {"type": "pytorch"}, ranks
    after = bash_step("after", MARK_OUT, inputs={"src": ("hang", "out")})
    return [hang, after]


def rank_step(distribution: dict[str, Any], instance_count: int, command: str) -> LocalStep:
    """A one-output step ``train`` with ``instance_count`` copies, distributed as given."""
    return LocalStep(
        name="train",
        display_name="train",
        command=command,
        environment_variables={},
        inputs={},
        outputs={"out": None},
        code=None,
        instance_count=instance_count,
        distribution=distribution,
    )
