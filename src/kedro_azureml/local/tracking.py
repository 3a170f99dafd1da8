"""MLflow in ``run --local`` steps, laid out as Azure ML lays it out.

On Azure ML a pipeline job is an MLflow run of the job's experiment, each step a child run
of it, and every step process finds ``MLFLOW_TRACKING_URI``, ``MLFLOW_EXPERIMENT_ID`` and
``MLFLOW_RUN_ID`` set, so ``mlflow.log_metric(...)`` in a node needs no set-up. The local
runner creates the same runs, in the tracking store the user points ``MLFLOW_TRACKING_URI``
at or else in a SQLite file beside the local runs (MLflow 3 refuses plain ``mlruns`` folders
by default), and gives each step the same variables.

Used only when ``mlflow`` is importable: it is not a dependency of the plugin.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kedro_azureml.errors import KedroAzureMLError

STORE_FILE = "mlflow.db"
# How long a step or runner waits for the SQLite store another process is writing, in seconds
# (Python's default, 5 s, is short for several steps logging at once).
SQLITE_TIMEOUT = 60
# Artifacts of the default store: beside it, not in ./mlruns (MLflow's default, and where a
# project's own mlflow.yml often points).
ARTIFACTS_DIR = "mlartifacts"
STEP_RUN_STATUS = {"succeeded": "FINISHED", "interrupted": "KILLED"}


@dataclass
class LocalTracking:
    """The job's parent run and one child run per step, created as steps start."""

    client: Any
    tracking_uri: str
    experiment_id: str
    run_id: str
    step_runs: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def shared_environment(self) -> dict[str, str]:
        """The variables every step gets alike (``step_environment`` adds the step's run)."""
        return {
            "MLFLOW_TRACKING_URI": self.tracking_uri,
            "MLFLOW_EXPERIMENT_ID": self.experiment_id,
        }

    def step_environment(self, step_name: str, display_name: str) -> dict[str, str]:
        with self._lock:
            run = self.client.create_run(
                self.experiment_id,
                run_name=display_name,
                tags={"mlflow.parentRunId": self.run_id, "kedro_azureml.step": step_name},
            )
            self.step_runs[step_name] = run.info.run_id
        return {**self.shared_environment(), "MLFLOW_RUN_ID": run.info.run_id}

    def end_step(self, step_name: str, status: str) -> None:
        """End a step's run with the runner's verdict (succeeded, failed, interrupted, ...).

        The runner's verdict wins over whatever the step's own atexit recorded.
        """
        run_id = self.step_runs.get(step_name)
        if run_id:
            with self._lock:
                self.client.set_terminated(run_id, STEP_RUN_STATUS.get(status, "FAILED"))

    def end(self, status: str) -> None:
        """End the job's run: FINISHED, FAILED, or KILLED when the run was interrupted."""
        with self._lock:
            self.client.set_terminated(self.run_id, status)

    def to_dict(self) -> dict[str, Any]:
        return {
            "tracking_uri": self.tracking_uri,
            "experiment_id": self.experiment_id,
            "run_id": self.run_id,
            "step_runs": dict(self.step_runs),
        }


DATABASE_SCHEMES = frozenset({"sqlite", "postgresql", "mysql", "mssql"})


def own_store_uri(runs_root: Path) -> str:
    return f"sqlite:///{runs_root / STORE_FILE}?timeout={SQLITE_TIMEOUT}"


def default_tracking_uri(runs_root: Path) -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or own_store_uri(runs_root)


def step_imports(runs_root: Path, source: Path) -> tuple[str, ...]:
    """What a step that logs to its MLflow run imports (seconds each), for warm starts to
    import beforehand: MLflow, and for a database store SQLAlchemy's store. Nothing when
    MLflow is not installed or no Python file under ``source`` (the project's code) names
    it: importing it would only take CPU from the steps."""
    if importlib.util.find_spec("mlflow") is None or not _names_mlflow(source):
        return ()
    if default_tracking_uri(runs_root).split(":", 1)[0] in DATABASE_SCHEMES:
        return ("mlflow", "mlflow.store.tracking.sqlalchemy_store")
    return ("mlflow",)


def _names_mlflow(source: Path) -> bool:
    for path in source.rglob("*.py"):
        try:
            if "mlflow" in path.read_text(encoding="utf-8", errors="replace"):
                return True
        except OSError:
            continue
    return False


@contextmanager
def _store_lock(runs_root: Path, uri: str) -> Iterator[None]:
    """One run at a time creates or upgrades our SQLite store (and its experiments).

    MLflow creates a new store's tables on first use, without a lock: two runs starting
    together left "table ... already exists" errors and a half-made store.
    """
    if uri != own_store_uri(runs_root) or os.name != "posix":
        yield
        return
    import fcntl

    runs_root.mkdir(parents=True, exist_ok=True)
    with (runs_root / f"{STORE_FILE}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _experiment_id(client: Any, name: str, runs_root: Path) -> str:
    """The experiment's id, created when missing; another run may create it at the same time."""
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return str(experiment.experiment_id)
    own_store = not os.environ.get("MLFLOW_TRACKING_URI")  # else the server decides
    artifacts = (runs_root / ARTIFACTS_DIR).resolve().as_uri() if own_store else None
    try:
        return str(client.create_experiment(name, artifact_location=artifacts))
    except Exception:
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            raise
        return str(experiment.experiment_id)


def start_local_tracking(
    job: dict[str, Any], *, runs_root: Path, run_dir: Path
) -> LocalTracking | None:
    """The job's parent run, or None when MLflow is not installed.

    Raises ``KedroAzureMLError`` when the store is unusable; the caller warns and runs on
    without tracking, since steps that log nothing don't care.
    """
    if importlib.util.find_spec("mlflow") is None:
        return None
    uri = default_tracking_uri(runs_root)
    try:
        from mlflow.tracking import MlflowClient

        with _store_lock(runs_root, uri):
            client = MlflowClient(tracking_uri=uri)
            experiment_id = _experiment_id(
                client, str(job.get("experiment_name") or "Default"), runs_root
            )
        tags = {str(key): str(value) for key, value in (job.get("tags") or {}).items()}
        tags["kedro_azureml.run_dir"] = str(run_dir)
        parent = client.create_run(
            experiment_id, run_name=str(job.get("display_name") or run_dir.name), tags=tags
        )
    except Exception as exc:  # any store failure means the same thing to the user
        raise KedroAzureMLError(f"MLflow store {uri} is not usable: {exc}") from exc
    return LocalTracking(client, uri, experiment_id, parent.info.run_id)
