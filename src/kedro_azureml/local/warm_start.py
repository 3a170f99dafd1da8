"""Warm starts of ``run --local`` steps: forked from a zygote (:mod:`kedro_azureml.local.zygote`)
that already imported Kedro and the project's pipeline modules, instead of a cold ``bash -c``.

Only a step whose command bash would run as one plain ``kedro ...`` program starts warm: its
command must be exactly the shell quoting of its words (no variable, glob, redirection or
``&&``), and ``kedro`` on the step's PATH must be this interpreter's. Anything else, a
distributed step's ranks, every step under ``--cold-start`` (or ``KEDRO_AZUREML_COLD_START=1``)
and every step of a zygote whose imports printed something (its children would leave that out
of their logs) starts cold. One zygote serves the steps of one working directory and one
environment (the job's variables); it starts in that folder with that environment, so what the
project's modules read while importing is what a cold step reads.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from kedro_azureml.contract.storage_paths import STEP_RUN_ID_VARIABLE

logger = logging.getLogger(__name__)

COLD_START_VARIABLE = "KEDRO_AZUREML_COLD_START"
# Variables given to the child, never to the zygote: they differ from step to step, or (the
# MLflow store's) are known only once the store has opened, while the zygote warms up.
PER_STEP_VARIABLES = frozenset(
    {"MLFLOW_RUN_ID", "MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_ID", STEP_RUN_ID_VARIABLE}
)
READY_TIMEOUT = 120.0


_ON = {"1", "true", "yes", "on"}


def cold_start_forced() -> bool:
    """Whether ``KEDRO_AZUREML_COLD_START`` asks for cold starts (warm is the default)."""
    return os.environ.get(COLD_START_VARIABLE, "").strip().lower() in _ON


def warm_program(argv: Sequence[str], env: dict[str, str]) -> str | None:
    """The ``kedro`` program a warm start runs for ``argv``, or None when it must start cold."""
    if os.name != "posix" or len(argv) != 3 or list(argv[:2]) != ["bash", "-c"]:
        return None
    command = argv[2]
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    if not words or words[0] != "kedro" or shlex.join(words) != command:
        return None
    program = shutil.which("kedro", path=env.get("PATH", ""))
    ours = Path(sys.executable).parent / "kedro"
    if program is None or Path(program) != ours:
        return None
    try:
        with ours.open("rb") as script:
            shebang = script.readline().decode(errors="replace").strip()
    except OSError:
        return None
    return program if shebang == f"#!{sys.executable}" else None


class WarmProcess:
    """A forked step process, with the part of ``subprocess.Popen`` the runner uses."""

    def __init__(self, pid: int, zygote: Zygote) -> None:
        self.pid = pid
        self._zygote = zygote
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self._zygote.exit_code(self.pid)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(["kedro"], timeout or 0.0)
            time.sleep(0.02)
        assert self.returncode is not None
        return self.returncode

    def kill(self) -> None:
        os.killpg(self.pid, signal.SIGKILL)

    def terminate(self) -> None:
        os.killpg(self.pid, signal.SIGTERM)


class Zygote:
    """One warm interpreter and the exit codes of the step processes it forked."""

    def __init__(
        self,
        cwd: Path,
        env: dict[str, str],
        preexec: Callable[[], None] | None,
        imports: Sequence[str] = (),
    ) -> None:
        answers, channel = os.pipe()
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "kedro_azureml.local.zygote", str(channel)],
                cwd=cwd,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=preexec,
                pass_fds=(channel,),
            )
        finally:
            os.close(channel)
        self._answers = os.fdopen(answers, "rb")
        self._lock = threading.Lock()  # one request at a time
        self._changed = threading.Condition()
        self._pids: list[int] = []
        self._codes: dict[int, int] = {}
        self._ready = False
        self._cold: str | None = None  # why its steps must start cold, once it is warm
        self._cold_told = False
        self._gone = False
        self._write({"env": env, "imports": list(imports)})
        self._reader = threading.Thread(target=self._read, daemon=True, name="kedro-azureml-zygote")
        self._reader.start()

    def _write(self, message: dict[str, Any]) -> None:
        assert self._process.stdin is not None
        self._process.stdin.write((json.dumps(message) + "\n").encode())
        self._process.stdin.flush()

    def _read(self) -> None:
        for line in self._answers:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            with self._changed:
                if "cold" in message:
                    self._cold = str(message["cold"])
                if "ready" in message:
                    self._ready = True
                elif "pid" in message:
                    self._pids.append(int(message["pid"]))  # -1: it would not fork
                elif "exit" in message:
                    self._codes[int(message["exit"])] = int(message["code"])
                self._changed.notify_all()
        with self._changed:
            self._gone = True
            self._changed.notify_all()

    def _wait_for(self, condition: Callable[[], bool], timeout: float) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: condition() or self._gone, timeout=timeout)

    def start(self, request: dict[str, Any]) -> WarmProcess | None:
        """Fork a step process; None when the zygote cannot (the step then starts cold)."""
        with self._lock:
            if not self._wait_for(lambda: self._ready, READY_TIMEOUT) or self._gone:
                return None
            if self._cold is not None:
                return self._starts_cold()
            try:
                self._write(request)
            except (BrokenPipeError, ValueError, OSError):
                return None
            if not self._wait_for(lambda: bool(self._pids), READY_TIMEOUT) or not self._pids:
                return None
            with self._changed:
                pid = self._pids.pop(0)
            return WarmProcess(pid, self) if pid > 0 else self._starts_cold()

    def _starts_cold(self) -> WarmProcess | None:
        """None (the step starts cold), saying why once."""
        if not self._cold_told:
            logger.warning(
                "Steps start cold, as with --cold-start: %s, which forked steps would leave "
                "out of their logs.",
                self._cold,
            )
            self._cold_told = True
        return None

    def exit_code(self, pid: int) -> int | None:
        with self._changed:
            if pid in self._codes:
                return self._codes[pid]
            if self._gone:  # the zygote died; its children died with it (SIGKILL)
                return -9
            return None

    def close(self) -> None:
        """End the zygote at once: its steps have ended (or been killed) by now, and its own
        interpreter shutdown (seconds with the project's imports) would only delay the run."""
        if self._process.stdin is not None:
            with contextlib.suppress(OSError):
                self._process.stdin.close()
        self._process.kill()
        self._process.wait()
        self._reader.join(timeout=5)  # it ends at the pipe's end of file
        if not self._reader.is_alive():
            self._answers.close()


class WarmStarts:
    """The run's zygotes, one per working directory and step environment, started on demand."""

    def __init__(
        self, preexec: Callable[[], None] | None = None, *, imports: Sequence[str] = ()
    ) -> None:
        self._preexec = preexec
        self._imports = tuple(imports)  # beyond Kedro and the project's pipeline modules
        self._lock = threading.Lock()
        self._zygotes: dict[tuple[str, tuple[tuple[str, str], ...]], Zygote] = {}

    @staticmethod
    def _base(env: dict[str, str]) -> dict[str, str]:
        return {k: v for k, v in env.items() if k not in PER_STEP_VARIABLES}

    def prepare(self, cwd: Path, env: dict[str, str]) -> None:
        """Start warming the zygote these steps will need, while the run does other work."""
        self._zygote(cwd, env)

    def prepare_only(self, needed: Sequence[tuple[Path, dict[str, str]]]) -> None:
        """Warm the zygotes of ``needed`` (folder, environment) and end the others: one
        started on a guess, before the job was compiled, that the job does not need."""
        keys = {self._key(cwd, env) for cwd, env in needed}
        with self._lock:
            unneeded = [key for key in self._zygotes if key not in keys]
            ended = [self._zygotes.pop(key) for key in unneeded]
        for zygote in ended:
            zygote.close()
        for cwd, env in needed:
            self._zygote(cwd, env)

    def _key(self, cwd: Path, env: dict[str, str]) -> tuple[str, tuple[tuple[str, str], ...]]:
        return str(cwd), tuple(sorted(self._base(env).items()))

    def _zygote(self, cwd: Path, env: dict[str, str]) -> Zygote:
        base = self._base(env)
        key = self._key(cwd, env)
        with self._lock:
            if key not in self._zygotes:
                self._zygotes[key] = Zygote(cwd, base, self._preexec, self._imports)
            return self._zygotes[key]

    def start(
        self, argv: Sequence[str], *, cwd: Path, env: dict[str, str], log: Path
    ) -> WarmProcess | None:
        """A warm step process of ``argv``, or None: then the caller starts it cold."""
        program = warm_program(argv, env)
        if program is None:
            return None
        words = shlex.split(argv[2])
        request = {"argv": words, "cwd": str(cwd), "env": env, "log": str(log)}
        return self._zygote(cwd, env).start({**request, "program": program})

    def close(self) -> None:
        with self._lock:
            zygotes, self._zygotes = list(self._zygotes.values()), {}
        for zygote in zygotes:
            zygote.close()
