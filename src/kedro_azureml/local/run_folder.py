"""What a run folder records so that ``run --local --resume`` can finish the run later.

``run.json`` (written before any step starts) names the run's id, which names its data in the
temporary container, and a hash of the compiled job; ``steps/<step>.json`` records each step
as it finishes, so even a run killed with ``kill -9`` can be resumed. A runner holds a lock on
``.lock`` while it runs: no second runner resumes a run that is still going.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from kedro_azureml.atomic import write_text_atomically
from kedro_azureml.errors import KedroAzureMLError

RUN_FILE = "run.json"
STEPS_DIR = "steps"
LOCK_FILE = ".lock"


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    job_sha256: str
    pipeline: str
    from_yaml: str | None = None
    started: float = 0.0
    # --remote-storage: the run's data crosses steps through the real temporary container
    # (else through the run folder's temporary_storage/); a resume keeps the run's choice.
    remote_storage: bool = False

    def write(self, run_dir: Path) -> None:
        write_text_atomically(run_dir / RUN_FILE, json.dumps(asdict(self), indent=2))


def job_hash(yaml_text: str) -> str:
    return hashlib.sha256(yaml_text.encode()).hexdigest()


def read_run_record(run_dir: Path) -> RunRecord:
    try:
        data = json.loads((run_dir / RUN_FILE).read_text())
        return RunRecord(
            **{key: data[key] for key in RunRecord.__dataclass_fields__ if key in data}
        )
    except FileNotFoundError:
        raise KedroAzureMLError(
            f"{run_dir} has no {RUN_FILE}: it is not a run folder of `run --local` that can be "
            "resumed (it was made by an older version, or the run never started)."
        ) from None
    except (ValueError, TypeError) as exc:
        raise KedroAzureMLError(
            f"{run_dir / RUN_FILE} is damaged ({exc}): start a new run."
        ) from exc


def find_run(runs_root: Path, run: str) -> Path:
    """The run folder ``run`` names: ``latest``, a folder name under ``runs_root``, or a path."""
    if run == "latest":
        candidates = [p for p in runs_root.glob(f"*/{RUN_FILE}")] if runs_root.is_dir() else []
        if not candidates:
            raise KedroAzureMLError(f"There is no run to resume in {runs_root}.")
        return max(candidates, key=lambda path: (_started(path), path.parent.name)).parent
    for candidate in (runs_root / run, Path(run).expanduser()):
        if (candidate / RUN_FILE).is_file():
            return candidate.resolve()
    raise KedroAzureMLError(
        f"No run '{run}' to resume: give a folder name under {runs_root} (or its path), or "
        "--resume alone for the latest run."
    )


def _started(path: Path) -> float:
    try:
        return float(json.loads(path.read_text()).get("started") or 0.0)
    except (OSError, ValueError):
        return 0.0


def record_step(run_dir: Path, step_file: str, step: str, status: str) -> None:
    write_text_atomically(
        run_dir / STEPS_DIR / f"{step_file}.json",
        json.dumps({"step": step, "status": status, "at": time.time()}),
    )


def succeeded_steps(run_dir: Path) -> set[str]:
    """The steps an earlier attempt of this run finished successfully."""
    done = set()
    for path in (run_dir / STEPS_DIR).glob("*.json"):
        try:
            record: dict[str, Any] = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if record.get("status") == "succeeded":
            done.add(str(record.get("step")))
    return done


@contextmanager
def run_folder_lock(run_dir: Path) -> Iterator[None]:
    """Held while a runner runs in ``run_dir``; released by the kernel if the runner dies."""
    if os.name != "posix":
        yield
        return
    import fcntl

    with (run_dir / LOCK_FILE).open("a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise KedroAzureMLError(
                f"The run in {run_dir} is still running (another `run --local` holds it): wait "
                "for it to end, or stop it with Ctrl-C, before resuming it."
            ) from None
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
