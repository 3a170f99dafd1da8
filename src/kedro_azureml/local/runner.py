"""``run --local``: execute a compiled Azure ML pipeline job on this machine, step by step.

Each step's exact command runs in bash as a subprocess, with its ``${{inputs.x}}`` and
``${{outputs.y}}`` replaced by folders under the run directory and with the step's
environment variables, in dependency order, independent steps in parallel.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from kedro_azureml.cloud.blob_folders import BlobFolders
from kedro_azureml.contract.bindings import STEP_IO
from kedro_azureml.errors import KedroAzureMLError
from kedro_azureml.local.job import LocalStep
from kedro_azureml.local.ranks import rank_launches
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
_CD_PREFIX = re.compile(r"^\s*cd\s+(\S+)\s+&&\s+")

PENDING, RUNNING, SUCCEEDED, FAILED, SKIPPED = (
    "pending",
    "running",
    "succeeded",
    "failed",
    "skipped",
)


@dataclass
class StepResult:
    name: str
    display_name: str
    status: str = PENDING
    duration: float = 0.0
    log_path: Path | None = None
    returncode: int | None = None
    reason: str = ""


@dataclass
class RunResult:
    run_dir: Path
    steps: dict[str, StepResult] = field(default_factory=dict)
    job_outputs: dict[str, Path] = field(default_factory=dict)
    tracking: LocalTracking | None = None
    # "name@latest" -> the version every step of this run read
    asset_versions: dict[str, str] = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        return all(result.status == SUCCEEDED for result in self.steps.values())

    def to_json(self) -> str:
        """A machine-readable summary, for CI scripts and tests."""
        return json.dumps(
            {
                "succeeded": self.succeeded,
                "steps": {
                    name: {
                        "status": step.status,
                        "duration": round(step.duration, 3),
                        "returncode": step.returncode,
                        "log": str(step.log_path) if step.log_path else None,
                        "reason": step.reason,
                    }
                    for name, step in self.steps.items()
                },
                "job_outputs": {name: str(path) for name, path in self.job_outputs.items()},
                "mlflow": self.tracking.to_dict() if self.tracking else None,
                "asset_versions": self.asset_versions,
            },
            indent=2,
        )


def wait_all_or_fail_fast(processes: list[subprocess.Popen[bytes]]) -> int:
    """Wait for every rank; when one fails, stop the others instead of letting them hang.

    A rank that dies leaves its peers blocked in a collective until the backend's timeout
    (minutes); Azure ML likewise fails the whole step when one process fails. Returns the
    exit code of the first rank that failed (not of the peers stopped because of it), or 0.
    """
    while True:
        codes = [process.poll() for process in processes]
        failed = next((code for code in codes if code), None)
        if failed is not None:
            for process in processes:
                if process.poll() is None:
                    process.terminate()
            for process in processes:
                process.wait()
            return int(failed)
        if all(code is not None for code in codes):
            return 0
        time.sleep(0.05)


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
        extra_env: dict[str, str] | None = None,
        blob_folders: BlobFolders | None = None,
        asset_workspace: dict[str, str] | None = None,
        tracking: LocalTracking | None = None,
    ) -> None:
        self.steps = {step.name: step for step in steps}
        self.run_dir = run_dir
        self.project_dir = project_dir
        self.max_workers = max(1, max_workers or os.cpu_count() or 1)
        self.on_change = on_change or (lambda result: None)
        self.extra_env = extra_env or {}
        self.blob_folders = blob_folders
        self.asset_workspace = asset_workspace
        self._asset_paths: dict[tuple[str, str], Path] = {}
        self._asset_lock = threading.Lock()
        self.tracking = tracking
        self.result = RunResult(run_dir=run_dir, tracking=tracking)
        for step in steps:
            self.result.steps[step.name] = StepResult(step.name, step.display_name)

    # Folders -----------------------------------------------------------------------------
    def output_folder(self, step: str, port: str) -> Path:
        job_output = self.steps[step].outputs.get(port)
        if job_output:
            return self.run_dir / "outputs" / job_output
        return self.run_dir / "data" / step / port

    def input_folder(self, step: LocalStep, port: str) -> Path:
        producer, producer_port = step.inputs[port]
        if producer_port in self.steps[producer].output_uris:
            return self.run_dir / "mounts" / step.name / port  # downloaded before the step
        return self.output_folder(producer, producer_port)

    def bound_command(self, step: LocalStep) -> str:
        def replace(match: re.Match[str]) -> str:
            kind, port = match.groups()
            if kind == "inputs" and port in step.asset_inputs:
                folder = self._asset_paths[(step.name, port)]
            elif kind == "inputs":
                folder = self.input_folder(step, port)
            else:
                folder = self.output_folder(step.name, port)
            return shlex.quote(str(folder))

        command = STEP_IO.sub(replace, step.command)
        if step.code is None:
            # Docker image flow: the image's working directory is this project here.
            command = _CD_PREFIX.sub("", command, count=1)
        return command

    def working_dir(self, step: LocalStep) -> Path:
        if step.code is None:
            return self.project_dir
        from kedro_azureml.project.snapshot import copy_snapshot, scan_code_directory

        snapshot = self.run_dir / "snapshot" / step.code.name
        if not snapshot.exists():
            copy_snapshot(scan_code_directory(step.code), snapshot)
        return snapshot

    # Running -----------------------------------------------------------------------------
    def _remote(self, uri: str) -> str:
        if self.blob_folders is None:
            raise KedroAzureMLError(
                f"The job passes data through {uri}; run --local needs the temporary storage "
                "credentials for it."
            )
        return self.blob_folders.remote_path(uri, self.run_dir.name)

    def _mount_inputs(self, step: LocalStep) -> None:
        for port, (kind, path) in step.asset_inputs.items():
            self._asset_paths[(step.name, port)] = self._fetch_asset(step, port, kind, path)
        for port, (producer, producer_port) in step.inputs.items():
            uri = self.steps[producer].output_uris.get(producer_port)
            if uri and self.blob_folders:
                self.blob_folders.download(self._remote(uri), self.input_folder(step, port))

    def _fetch_asset(self, step: LocalStep, port: str, kind: str, path: str) -> Path:
        """Download a data asset input, as Azure ML would mount it (versions resolved here)."""
        from kedro_azureml.cloud.assets import fetch_asset, latest_version
        from kedro_azureml.contract.assets import AssetSpec, normalize_version

        if self.asset_workspace is None:
            raise KedroAzureMLError(f"Step '{step.name}' reads data asset {path}: no workspace.")
        reference = path.removeprefix("azureml:")
        name, _, version = reference.partition("@" if "@" in reference else ":")
        spec = AssetSpec(name, kind, normalize_version(version))
        if spec.version is None:  # resolved once per run: every step reads the same version
            with self._asset_lock:
                key = f"{name}@latest"
                if key not in self.result.asset_versions:
                    self.result.asset_versions[key] = latest_version(self.asset_workspace, spec)
            spec = AssetSpec(name, kind, self.result.asset_versions[key])
        destination = self.run_dir / "assets" / step.name / port
        destination.parent.mkdir(parents=True, exist_ok=True)
        return fetch_asset(self.asset_workspace, spec, destination)

    def _unmount_outputs(self, step: LocalStep) -> None:
        for port, uri in step.output_uris.items():
            if self.blob_folders:
                self.blob_folders.upload(self.output_folder(step.name, port), self._remote(uri))

    def _environment(self, step: LocalStep) -> dict[str, str]:
        """What a step process sees: like on Azure ML, not this machine's environment.

        Azure ML steps start with no user environment at all, so a local step gets only the
        variables of ``STEP_ENV_ALLOWLIST`` (how to run programs and reach the network here),
        then the job's own variables and the ones the runner sets (MLflow, ranks). Anything
        else a step needs must come from the job (``--env-var``), as on Azure ML; no secret of
        this machine (storage keys, cloud or CI tokens) reaches a step.
        """
        env = {
            key: value
            for key, value in os.environ.items()
            if key in STEP_ENV_ALLOWLIST or key.startswith("LC_")
        }
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
        env.update(self.extra_env)
        if self.tracking:
            env.update(self.tracking.step_environment(step.name, step.display_name))
        env.update(step.environment_variables)
        return env

    def _run_step(self, step: LocalStep) -> StepResult:
        result = self.result.steps[step.name]
        result.log_path = self.run_dir / "logs" / f"{step.name}.log"
        result.log_path.parent.mkdir(parents=True, exist_ok=True)
        for port in step.outputs:
            self.output_folder(step.name, port).mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        with result.log_path.open("w") as log:
            try:
                self._mount_inputs(step)
                command = self.bound_command(step)
                log.write(f"$ {command}\n")
                log.flush()
                cwd = self.working_dir(step)
                launches = rank_launches(step, command, self._environment(step))
                processes = [
                    subprocess.Popen(
                        argv,
                        cwd=cwd,
                        env=env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        stdin=subprocess.DEVNULL,
                    )
                    for argv, env in launches
                ]
                returncode = wait_all_or_fail_fast(processes)
                if not returncode:
                    self._unmount_outputs(step)
            except Exception as exc:  # A step that cannot start or finish fails like any other.
                log.write(f"\nkedro-azureml: {type(exc).__name__}: {exc}\n")
                result.reason = f"{type(exc).__name__}: {exc}"[:200]
                returncode = None
        result.duration = time.perf_counter() - started
        result.returncode = returncode
        result.status = SUCCEEDED if returncode == 0 else FAILED
        if self.tracking:
            self.tracking.end_step(step.name, result.status == SUCCEEDED)
        return result

    def run(self) -> RunResult:
        remaining = dict(self.steps)
        running: dict[Future[StepResult], str] = {}
        with ThreadPoolExecutor(max_workers=self.max_workers) as pool:
            while remaining or running:
                changed = True
                while changed:  # Skipping a step can settle its dependants in the same pass.
                    changed = False
                    for name, step in list(remaining.items()):
                        states = {self.result.steps[dep].status for dep in step.depends_on}
                        if states & {FAILED, SKIPPED}:
                            self._finish_skipped(name, remaining)
                            changed = True
                        elif states <= {SUCCEEDED}:
                            del remaining[name]
                            self.result.steps[name].status = RUNNING
                            self.on_change(self.result.steps[name])
                            running[pool.submit(self._run_step, step)] = name
                if not running:
                    if remaining:  # Only reachable with a dependency cycle.
                        for name in list(remaining):
                            self._finish_skipped(name, remaining, "dependency cycle")
                    break
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    running.pop(future)
                    self.on_change(future.result())
        for step in self.steps.values():
            for port, job_output in step.outputs.items():
                if job_output:
                    self.result.job_outputs[job_output] = self.output_folder(step.name, port)
        if self.tracking:
            self.tracking.end(self.result.succeeded)
        return self.result

    def _finish_skipped(
        self, name: str, remaining: dict[str, LocalStep], reason: str = "an upstream step failed"
    ) -> None:
        del remaining[name]
        result = self.result.steps[name]
        result.status, result.reason = SKIPPED, reason
        self.on_change(result)
