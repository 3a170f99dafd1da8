"""``run --local``: execute a compiled Azure ML pipeline job on this machine, step by step.

Each step's exact command runs in bash as a subprocess, with its ``${{inputs.x}}`` and
``${{outputs.y}}`` replaced by folders under the run directory and with the step's
environment variables, in dependency order, independent steps in parallel.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Protocol

from kedro_azureml.contract.assets import AssetSpec, normalize_version
from kedro_azureml.contract.bindings import STEP_IO
from kedro_azureml.contract.storage_paths import (
    MARKER_RUN_ID,
    METADATA_FILE,
    RUN_ID_VARIABLE,
    STEP_RUN_ID_VARIABLE,
    new_local_run_id,
    redact_urls,
)
from kedro_azureml.errors import KedroAzureMLError
from kedro_azureml.local.datastore import DatastoreFolders
from kedro_azureml.local.job import LocalStep
from kedro_azureml.local.processes import StepProcesses, open_step_log
from kedro_azureml.local.ranks import rank_launches, world_size
from kedro_azureml.local.run_folder import record_step
from kedro_azureml.local.snapshots import CodeSnapshot, LocalSnapshots
from kedro_azureml.local.timeouts import TIMED_OUT, StepTimedOut
from kedro_azureml.local.tracking import LocalTracking

# The runner's variables a step inherits (plus LC_*); see LocalJobRunner._environment. Each is
# about running programs on this machine or reaching the network from it, none is a secret:
STEP_ENV_ALLOWLIST = frozenset(
    {
        "PATH",  # with the venv's bin first: the step runs this project's kedro
        "HOME",  # tools and libraries keep caches and config there (pip, matplotlib, ...)
        "USER",
        "LOGNAME",
        "LANG",
        "LANGUAGE",
        "TZ",
        "TMPDIR",
        "TEMP",
        "TMP",
        # Proxies and TLS roots: without them a step behind a corporate proxy or TLS
        # inspection cannot reach Blob storage or MLflow at all.
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "NO_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "no_proxy",
        "all_proxy",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE",
        "AWS_CA_BUNDLE",
        # How wide Kedro's rich log lines print; without it they wrap at 80 characters.
        "COLUMNS",
        # Telemetry opt-outs made on this machine keep holding in its steps (kedro-telemetry).
        "KEDRO_DISABLE_TELEMETRY",
        "DO_NOT_TRACK",
    }
)


class AssetSource(Protocol):
    """The workspace's data assets (``cloud.assets.WorkspaceAssets``)."""

    def latest_version(self, spec: AssetSpec) -> str:
        """The version ``@latest`` names now."""
        ...

    def fetch(self, spec: AssetSpec, destination: Path) -> Path:
        """Download ``spec`` (version pinned) to ``destination``; returns what Azure ML mounts."""
        ...


PENDING, RUNNING, SUCCEEDED, FAILED, SKIPPED, INTERRUPTED = (
    "pending",
    "running",
    "succeeded",
    "failed",
    "skipped",
    "interrupted",
)
MAX_FILE_NAME = 100  # bytes: leaves room for suffixes and for encrypted file systems
# Where saves write before they rename into place (step_data, serialization, atomic writes).
PARTIAL_PREFIXES = (".partial-",)
# Starts the lines the runner itself writes into a step's log (its errors, after the command's).
RUNNER_LOG_PREFIX = "kedro-azureml: "
# After the first Ctrl-C, steps get this long to stop by themselves before they are killed.
STOP_GRACE_VARIABLE = "KEDRO_AZUREML_STOP_GRACE_SECONDS"
STOP_GRACE_SECONDS = 10.0


@dataclass
class StepResult:
    name: str
    display_name: str
    status: str = PENDING
    duration: float = 0.0
    log_path: Path | None = None
    returncode: int | None = None
    reason: str = ""
    started_at: float | None = None  # wall clock (epoch seconds), for the report's timeline
    finished_at: float | None = None
    ranks: int = 1  # processes the step ran as (a distributed step's world size)
    # Where a failed step stopped: "inputs" (its command never started), "command",
    # "outputs" (exited 0 without every output), "upload" (its node(s) ran; the upload failed).
    failed_at: str | None = None


@dataclass
class RunResult:
    run_dir: Path
    run_id: str = ""
    steps: dict[str, StepResult] = field(default_factory=dict)
    job_outputs: dict[str, Path] = field(default_factory=dict)
    tracking: LocalTracking | None = None
    # "name@latest" -> the version every step of this run read
    asset_versions: dict[str, str] = field(default_factory=dict)
    interrupted_by: int | None = None  # the signal that stopped the run (SIGINT: Ctrl-C)

    @property
    def succeeded(self) -> bool:
        return all(result.status == SUCCEEDED for result in self.steps.values())

    @property
    def exit_code(self) -> int:
        """0, 1 when a step failed, or 128 + the signal when interrupted (130 for Ctrl-C)."""
        if self.interrupted_by is not None:
            return 128 + self.interrupted_by
        return 0 if self.succeeded else 1

    def to_json(self) -> str:
        """A machine-readable summary, for CI scripts and tests."""
        return json.dumps(
            {
                "succeeded": self.succeeded,
                "interrupted": self.interrupted_by is not None,
                "run_id": self.run_id,
                "steps": {
                    name: {
                        "status": step.status,
                        "duration": round(step.duration, 3),
                        "returncode": step.returncode,
                        "log": str(step.log_path) if step.log_path else None,
                        "reason": step.reason,
                        "started": step.started_at,
                        "finished": step.finished_at,
                        "ranks": step.ranks,
                        "failed_at": step.failed_at,
                    }
                    for name, step in self.steps.items()
                },
                "job_outputs": {name: str(path) for name, path in self.job_outputs.items()},
                "mlflow": self.tracking.to_dict() if self.tracking else None,
                "asset_versions": self.asset_versions,
            },
            indent=2,
        )


def file_name(name: str) -> str:
    """``name`` as a file name any file system takes (255 bytes at most, with room to spare).

    Step and port names are as long as Kedro's node and dataset names; a long one keeps its
    start, readable, and a hash of the whole, unique.
    """
    if len(name.encode()) <= MAX_FILE_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:16]
    return f"{name.encode()[: MAX_FILE_NAME - 17].decode(errors='ignore')}-{digest}"


class StepInputError(KedroAzureMLError):
    """A step's input is not complete data of this run: the step does not start."""


class StepOutputError(KedroAzureMLError):
    """A step exited 0 without writing every declared output: it failed."""


class StepUploadError(KedroAzureMLError):
    """A step exited 0 with every output, which could not be uploaded to the container."""


class LocalJobRunner:
    """Runs the steps of one compiled job; one instance per run directory."""

    def __init__(
        self,
        steps: list[LocalStep],
        *,
        run_dir: Path,
        project_dir: Path,
        max_workers: int | None = None,
        on_change: Callable[[StepResult], None] | None = None,
        on_notice: Callable[[str], None] | None = None,
        extra_env: dict[str, str] | None = None,
        datastore: DatastoreFolders | None = None,
        assets: AssetSource | None = None,
        code_snapshot: CodeSnapshot | None = None,
        tracking: LocalTracking | None = None,
        run_id: str | None = None,
        reuse: set[str] | None = None,
        warm_start: bool = False,
        warm_imports: Sequence[str] = (),
        open_tracking: Callable[[], LocalTracking | None] | None = None,
        processes: StepProcesses | None = None,
        snapshots: LocalSnapshots | None = None,
    ) -> None:
        self.steps = {step.name: step for step in steps}
        self.run_dir = run_dir
        # Names this run's data: the remote prefix in the temporary container, and the run
        # every completion marker must name before a step's output counts.
        self.run_id = run_id or new_local_run_id()
        self.project_dir = project_dir
        self.max_workers = max(1, max_workers or os.cpu_count() or 1)
        self.on_change = on_change or (lambda result: None)
        self.on_notice = on_notice or (lambda message: None)
        self.extra_env = extra_env or {}
        self.datastore = datastore
        self.assets = assets
        self._asset_paths: dict[tuple[str, str], Path] = {}
        self._asset_lock = threading.Lock()
        self.tracking = tracking
        # Opens the MLflow store when ``run`` starts, once the warm interpreters are warming:
        # importing MLflow and opening its store take seconds that then overlap with theirs.
        self._open_tracking = open_tracking
        self.result = RunResult(run_dir=run_dir, run_id=self.run_id, tracking=tracking)
        # ``snapshots`` and ``processes``: made before the job was compiled, to warm up sooner.
        self.snapshots = snapshots or LocalSnapshots(
            self.run_id, run_dir, code_snapshot or _no_snapshot
        )
        # Steps an earlier attempt of this run finished (--resume): kept if their outputs are.
        self.reuse = set(reuse or ()) & set(self.steps)
        # Warm starts fork steps from an interpreter that already imported Kedro and the
        # project (local/warm_start.py); each step still runs its own command line.
        # ``warm_imports``: modules the steps will likely import, imported there beforehand.
        self.processes = processes or StepProcesses(
            warm_starts=warm_start, warm_imports=warm_imports
        )
        self._signals: list[int] = []  # appended by the signal handler, acted on by run()
        self._kill_at: float | None = None
        for step in steps:
            self.result.steps[step.name] = StepResult(
                step.name, step.display_name, ranks=world_size(step)
            )

    # Folders -----------------------------------------------------------------------------
    def output_folder(self, step: str, port: str) -> Path:
        job_output = self.steps[step].outputs.get(port)
        if job_output:
            return self.run_dir / "outputs" / job_output
        return self.run_dir / "data" / file_name(step) / file_name(port)

    def input_folder(self, step: LocalStep, port: str) -> Path:
        producer, producer_port = step.inputs[port]
        if producer_port in self.steps[producer].output_uris:
            # downloaded before the step
            return self.run_dir / "mounts" / file_name(step.name) / file_name(port)
        return self.output_folder(producer, producer_port)

    def bound_command(self, step: LocalStep) -> str:
        def replace(match: re.Match[str]) -> str:
            kind, port = match.groups()
            if kind == "inputs" and port in step.literal_inputs:
                return step.literal_inputs[port]  # raw text, as Azure ML writes it
            if kind == "inputs" and port in step.asset_inputs:
                folder = self._asset_paths[(step.name, port)]
            elif kind == "inputs":
                folder = self.input_folder(step, port)
            else:
                folder = self.output_folder(step.name, port)
            return shlex.quote(str(folder))

        return STEP_IO.sub(replace, step.command)

    def working_dir(self, step: LocalStep) -> Path:
        if step.code is None:
            # Docker image flow: the image's step.working_directory (or its WORKDIR, without
            # one) holds the project; here that is the project itself.
            return self.project_dir
        return self.snapshots.path_for(step.code)

    # Running -----------------------------------------------------------------------------
    def _remote(self, uri: str) -> str:
        if self.datastore is None:
            raise KedroAzureMLError(
                f"The job passes data through {uri}; run --local was given no container for it."
            )
        return self.datastore.remote_path(uri, self.run_id)

    def _mount_inputs(self, step: LocalStep) -> None:
        for port, (kind, path) in step.asset_inputs.items():
            self._asset_paths[(step.name, port)] = self._fetch_asset(step, port, kind, path)
        for port, (producer, producer_port) in step.inputs.items():
            uri = self.steps[producer].output_uris.get(producer_port)
            if uri and self.datastore:
                mount = self.input_folder(step, port)
                shutil.rmtree(mount, ignore_errors=True)  # no file of an earlier attempt
                self.datastore.download(self._remote(uri), mount)
        for port, (producer, producer_port) in step.inputs.items():
            if producer_port in self.steps[producer].asset_outputs:
                continue  # a registered data asset: Azure ML's folder, no marker of ours
            problem = self._marker_problem(self.input_folder(step, port))
            if problem:
                raise StepInputError(
                    f"input '{port}' from step '{producer}' {problem}; this step will not read it"
                )

    def _marker_problem(self, folder: Path) -> str | None:
        """Why ``folder`` does not hold complete data of this run, or None when it does."""
        try:
            marker = json.loads((folder / METADATA_FILE).read_text())
        except FileNotFoundError:
            return "has no completion marker (it was not completely written)"
        except (OSError, ValueError) as exc:
            return f"has an unreadable completion marker ({type(exc).__name__})"
        run_id = marker.get(MARKER_RUN_ID) if isinstance(marker, dict) else None
        if run_id != self.run_id:
            return f"was written by run {run_id or '<none>'}, not by this run ({self.run_id})"
        return None

    def _output_problems(self, step: LocalStep) -> list[str]:
        """The declared outputs of a finished step that are missing or not of this run."""
        problems = []
        for port in step.outputs:
            if port in step.asset_outputs:
                continue
            problem = self._marker_problem(self.output_folder(step.name, port))
            if problem:
                problems.append(f"output '{port}' {problem}")
        return problems

    def _fetch_asset(self, step: LocalStep, port: str, kind: str, path: str) -> Path:
        """Download a data asset input, as Azure ML would mount it (versions resolved here)."""
        if self.assets is None:
            raise KedroAzureMLError(f"Step '{step.name}' reads data asset {path}: no workspace.")
        reference = path.removeprefix("azureml:")
        name, _, version = reference.partition("@" if "@" in reference else ":")
        spec = AssetSpec(name, kind, normalize_version(version))
        if spec.version is None:  # resolved once per run: every step reads the same version
            with self._asset_lock:
                key = f"{name}@latest"
                if key not in self.result.asset_versions:
                    self.result.asset_versions[key] = self.assets.latest_version(spec)
            spec = AssetSpec(name, kind, self.result.asset_versions[key])
        destination = self.run_dir / "assets" / file_name(step.name) / file_name(port)
        destination.parent.mkdir(parents=True, exist_ok=True)
        return self.assets.fetch(spec, destination)

    def _unmount_outputs(self, step: LocalStep) -> None:
        if self.datastore is None:
            return
        for port, uri in step.output_uris.items():
            try:
                self.datastore.upload(self.output_folder(step.name, port), self._remote(uri))
            except Exception as exc:
                first_line = (str(exc).strip().splitlines() or [""])[0]
                raise StepUploadError(
                    f"its node(s) ran and exited 0, but uploading output '{port}' to "
                    f"{self.datastore.where} failed: {type(exc).__name__}: {first_line}"
                ) from exc

    def _environment(self, step: LocalStep, *, shared_only: bool = False) -> dict[str, str]:
        """What a step process sees (see :func:`base_step_environment`), with the step's MLflow
        run unless ``shared_only`` (what a warm interpreter warms in: no MLflow run yet)."""
        env = base_step_environment(self.run_id, step.environment_variables, self.extra_env)
        if shared_only:
            return env
        own = {STEP_RUN_ID_VARIABLE: f"{self.run_id}_{step.name}"}
        if self.tracking:
            own.update(self.tracking.step_environment(step.name, step.display_name))
            own[STEP_RUN_ID_VARIABLE] = own["MLFLOW_RUN_ID"]  # on Azure ML, one and the same
        return {**env, **own, **step.environment_variables}

    def _prepare_warm_starts(self) -> None:
        """Warm the interpreters the first steps will fork from, while inputs are prepared;
        one started before the job was known (``commands.run_local``) and none of them
        need is ended."""
        self.processes.prepare_warm_only(
            [
                (self.working_dir(step), self._environment(step, shared_only=True))
                for step in self.steps.values()
                if not step.distribution and self.result.steps[step.name].status != SUCCEEDED
            ]
        )

    def _empty_outputs(self, step: LocalStep) -> None:
        """A step (re)starts with empty output folders: nothing left from an earlier attempt."""
        for port in step.outputs:
            folder = self.output_folder(step.name, port)
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)

    def _remove_partial_saves(self, step: LocalStep) -> None:
        """Half-written files of a save the step did not finish (killed, failed): never kept.

        Whatever completed stays, to look at; a partial save is as big as the data and useless.
        """
        for port in step.outputs:
            folder = self.output_folder(step.name, port)
            for path in sorted(folder.rglob(".*partial*"), reverse=True):
                if not path.name.startswith(PARTIAL_PREFIXES) and not path.name.endswith(
                    ".partial"
                ):
                    continue
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)

    def _run_step(self, step: LocalStep) -> StepResult:
        result = self.result.steps[step.name]
        result.log_path = self.run_dir / "logs" / f"{file_name(step.name)}.log"
        result.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._empty_outputs(step)
        started = time.perf_counter()
        result.started_at = time.time()
        returncode: int | None = None
        failed = timed_out = False
        stage = "inputs"
        with open_step_log(result.log_path) as log:
            try:
                self._mount_inputs(step)
                command = self.bound_command(step)
                log.write(f"$ {command}\n")
                log.flush()
                cwd = self.working_dir(step)
                launches = rank_launches(step, command, self._environment(step))
                warm = len(launches) == 1  # a distributed step's ranks start cold
                stage = "command"
                processes = [
                    self.processes.start(argv, cwd=cwd, env=env, log=log, warm=warm)
                    for argv, env in launches
                ]
                returncode = self.processes.wait_all(processes, timeout=step.timeout)
                if returncode == 0:
                    stage = "outputs"
                    problems = self._output_problems(step)
                    if problems:
                        raise StepOutputError(
                            "exited 0 but " + "; ".join(problems) + " (did a node exit early?)"
                        )
                    stage = "upload"
                    self._unmount_outputs(step)
            except StepTimedOut as exc:
                _log_error(log, f"the step {exc}")
                result.reason = str(exc)
                timed_out = failed = True
            except StepUploadError as exc:
                cause = f"{type(exc.__cause__).__name__}: {exc.__cause__}"
                _log_error(log, redact_urls(f"{exc}\n{cause}"))
                result.reason = redact_urls(str(exc))[:300]
                failed = True
            except Exception as exc:  # A step that cannot start or finish fails like any other.
                message = redact_urls(f"{type(exc).__name__}: {exc}")
                _log_error(log, message)
                result.reason = message[:300]
                failed = True
        if failed or returncode:
            result.failed_at = stage
        result.duration = time.perf_counter() - started
        result.finished_at = result.started_at + result.duration
        result.returncode = returncode
        if returncode != 0 or failed:
            self._remove_partial_saves(step)
        if returncode == 0 and not failed:
            result.status = SUCCEEDED
        elif timed_out:
            result.status = TIMED_OUT
        elif self._signals:
            result.status, result.reason = INTERRUPTED, _interruption(self._signals[0])
        else:
            result.status = FAILED
        if self.tracking:
            self.tracking.end_step(step.name, result.status)
        record_step(self.run_dir, file_name(step.name), step.name, result.status)
        return result

    def run(self) -> RunResult:
        """Run every step; Ctrl-C stops them all, and the summary still comes.

        The code snapshots exist only while the run does; no step process outlives it.
        """
        try:
            with self.processes, self._signals_caught():
                codes = sorted({step.code for step in self.steps.values() if step.code})
                for code in codes:
                    self.snapshots.path_for(code)  # a snapshot no step can run stops the run
                self.snapshots.keep_only(codes)
                self._prepare_warm_starts()
                if self._open_tracking is not None:
                    self.tracking = self.result.tracking = self._open_tracking()
                self._run_steps()
        except BaseException:
            if self.tracking:
                self.tracking.end("FAILED")
            raise
        finally:
            self.snapshots.cleanup()
        return self.result

    @contextmanager
    def _signals_caught(self) -> Iterator[None]:
        """Ctrl-C (SIGINT) and SIGTERM become requests the run loop acts on, not exceptions."""
        if threading.current_thread() is not threading.main_thread():
            yield  # only the main thread may handle signals
            return
        caught = (signal.SIGINT, signal.SIGTERM)
        previous = {signum: signal.getsignal(signum) for signum in caught}
        for signum in caught:
            signal.signal(signum, lambda signum, frame: self._signals.append(signum))
        try:
            yield
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _act_on_signals(self, handled: int) -> int:
        """First signal: stop every step gently; another, or the grace running out: kill."""
        if len(self._signals) > handled:
            if handled == 0:
                self.result.interrupted_by = self._signals[0]
                grace = float(os.environ.get(STOP_GRACE_VARIABLE, STOP_GRACE_SECONDS))
                self._kill_at = time.monotonic() + grace
                self.processes.stop(signal.SIGINT)
                why = _interruption(self._signals[0])
                self.on_notice(
                    f"{why[0].upper()}{why[1:]}: stopping "
                    f"{self.processes.running} running step process(es). Press Ctrl-C again "
                    "to kill them at once."
                )
            else:
                self.processes.kill()
                self.on_notice("Killed every step process.")
            handled = len(self._signals)
        if self._kill_at is not None and time.monotonic() > self._kill_at:
            self.processes.kill()
            self._kill_at = None
        return handled

    def _reuse_completed(self) -> None:
        """Take over the steps an earlier attempt finished, when their outputs are all there."""
        for name in sorted(self.reuse):
            step, result = self.steps[name], self.result.steps[name]
            if self._output_problems(step):
                continue  # something is missing or not of this run: it runs again
            result.status, result.reason = SUCCEEDED, "reused from an earlier attempt"
            log = self.run_dir / "logs" / f"{file_name(name)}.log"
            result.log_path = log if log.is_file() else None
            self.on_change(result)

    def _run_steps(self) -> None:
        self._reuse_completed()
        remaining = {
            name: step
            for name, step in self.steps.items()
            if self.result.steps[name].status != SUCCEEDED
        }
        running: dict[Future[StepResult], str] = {}
        handled = 0
        with ThreadPoolExecutor(max_workers=self.max_workers) as pool:
            while remaining or running:
                handled = self._act_on_signals(handled)
                if self._signals:
                    for name in list(remaining):
                        self._finish_skipped(name, remaining, "the run was interrupted")
                self._start_ready(remaining, running, pool)
                if not running:
                    if remaining:  # Only reachable with a dependency cycle.
                        for name in list(remaining):
                            self._finish_skipped(name, remaining, "dependency cycle")
                    break
                done, _ = wait(running, timeout=0.2, return_when=FIRST_COMPLETED)
                for future in done:
                    running.pop(future)
                    self.on_change(future.result())
        for step in self.steps.values():
            for port, job_output in step.outputs.items():
                if job_output:
                    self.result.job_outputs[job_output] = self.output_folder(step.name, port)
        if self.tracking:
            self.tracking.end(
                "KILLED"
                if self.result.interrupted_by is not None
                else "FINISHED"
                if self.result.succeeded
                else "FAILED"
            )

    def _start_ready(
        self,
        remaining: dict[str, LocalStep],
        running: dict[Future[StepResult], str],
        pool: ThreadPoolExecutor,
    ) -> None:
        changed = True
        while changed:  # Skipping a step can settle its dependants in the same pass.
            changed = False
            for name, step in list(remaining.items()):
                states = {self.result.steps[dep].status for dep in step.depends_on}
                if states & {FAILED, SKIPPED, INTERRUPTED, TIMED_OUT}:
                    self._finish_skipped(name, remaining)
                    changed = True
                elif states <= {SUCCEEDED}:
                    del remaining[name]
                    self.result.steps[name].status = RUNNING
                    self.on_change(self.result.steps[name])
                    running[pool.submit(self._run_step, step)] = name

    def _finish_skipped(
        self, name: str, remaining: dict[str, LocalStep], reason: str = "an upstream step failed"
    ) -> None:
        del remaining[name]
        result = self.result.steps[name]
        result.status, result.reason = SKIPPED, reason
        self.on_change(result)


def base_step_environment(
    run_id: str, job_env: dict[str, str], extra_env: dict[str, str] | None = None
) -> dict[str, str]:
    """What every step process of a run sees, before its own run ids: like on Azure ML, not
    this machine's environment.

    Azure ML steps start with no user environment at all, so a local step gets only the
    variables of ``STEP_ENV_ALLOWLIST`` (how to run programs and reach the network here),
    then the runner's ``extra_env`` and the job's own variables (``job_env``). Anything else a
    step needs must come from the job (``--env-var``), as on Azure ML; no secret of this
    machine (storage keys, cloud or CI tokens) reaches a step.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if key in STEP_ENV_ALLOWLIST or key.startswith("LC_")
    }
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.update(extra_env or {})
    env[RUN_ID_VARIABLE] = run_id  # as Azure ML sets it in every step
    env.update(job_env)
    return env


def _log_error(log: IO[str], message: str) -> None:
    """Write the runner's own error after the command's output, every line marked as its."""
    lines = [line for line in message.strip().splitlines() if line.strip()]
    log.write("\n" + "".join(f"{RUNNER_LOG_PREFIX}{line}\n" for line in lines))


def _interruption(signum: int) -> str:
    return "interrupted by Ctrl-C" if signum == signal.SIGINT else f"stopped by signal {signum}"


def _no_snapshot(code: Path, destination: Path) -> tuple[list[str], str | None]:
    raise KedroAzureMLError(
        f"A step runs in a snapshot of {code}, but this runner was given no code_snapshot to "
        "make one."
    )
