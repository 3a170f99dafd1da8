"""Render a compile's SDK job in a second process, started before the Kedro project opens.

A first compile spends most of its time in two independent halves: Kedro opening the project
(~1.2 s) and ``import azure.ai.ml`` (~1.5 s). One process runs them one after the other;
``compile`` starts this worker first, so the SDK loads on the other core while Kedro opens the
project, and hands it the plan. The worker renders the job with the real SDK objects, validates
it and writes its YAML exactly as the compiling process would (``render_job`` and ``job_yaml``,
the same code). It is an optimisation only: if the worker cannot start, dies or sends nothing
usable, the compiling process renders the job itself. A compile error raised while rendering
reaches the user unchanged. ``KEDRO_AZUREML_RENDER_WORKER=0`` turns the worker off.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from typing import TYPE_CHECKING, Any

from kedro_azureml.errors import KedroAzureMLError

if TYPE_CHECKING:
    from kedro_azureml.compiler.plan import JobPlan
    from kedro_azureml.compiler.render import CompileOptions
    from kedro_azureml.config import AzureMLConfig

SWITCH_VARIABLE = "KEDRO_AZUREML_RENDER_WORKER"
TIMEOUT_SECONDS = 600


def worker_enabled() -> bool:
    return os.environ.get(SWITCH_VARIABLE, "1").strip().lower() not in {"0", "false", "no", "off"}


class RenderWorker:
    """One worker process, used for at most one render; ``stop`` always ends it."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self._process = process

    @classmethod
    def start(cls) -> RenderWorker | None:
        if not worker_enabled():
            return None
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", __name__],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except OSError:
            return None
        return cls(process)

    def render(
        self,
        plan: JobPlan,
        config: AzureMLConfig,
        options: CompileOptions,
        yaml_options: CompileOptions,
    ) -> str | None:
        """The job's YAML (see ``compile_project``); None when the worker gave none, in which
        case the caller renders it. Raises the worker's compile error, if rendering raised one."""
        try:
            request = pickle.dumps((plan, config, options, yaml_options))
        except (pickle.PicklingError, TypeError, AttributeError):
            return None
        try:
            answer, _ = self._process.communicate(request, timeout=TIMEOUT_SECONDS)
        except (OSError, subprocess.TimeoutExpired):
            return None
        if self._process.returncode != 0:
            return None
        try:
            kind, value = pickle.loads(answer)
        except Exception:  # any unreadable answer means: render here instead
            return None
        if kind == "error" and isinstance(value, KedroAzureMLError):
            raise value
        return value if kind == "yaml" and isinstance(value, str) else None

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        for stream in (self._process.stdin, self._process.stdout):
            if stream is not None:
                stream.close()


def serve(request: bytes) -> tuple[str, Any]:
    """Render one pickled request: ("yaml", text) or ("error", the KedroAzureMLError)."""
    from kedro_azureml.compiler.compile import job_yaml
    from kedro_azureml.compiler.render import render_job

    plan, config, options, yaml_options = pickle.loads(request)
    try:
        return "yaml", job_yaml(render_job(plan, config, options), yaml_options)
    except KedroAzureMLError as exc:
        return "error", exc


def main() -> None:
    # Import everything rendering needs before the request arrives: that is the point.
    import kedro_azureml.compiler.compile  # noqa: F401
    from kedro_azureml.contract.sdk_warnings import quiet_sdk

    with quiet_sdk():
        import azure.ai.ml  # noqa: F401
    request = sys.stdin.buffer.read()
    if request:
        sys.stdout.buffer.write(pickle.dumps(serve(request)))
        sys.stdout.buffer.flush()


if __name__ == "__main__":
    main()
