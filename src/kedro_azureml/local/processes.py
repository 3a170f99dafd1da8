"""Step processes that never outlive their run.

Every step process (each rank of a distributed step too) starts in a process group of its
own, so everything it starts can be stopped together: on Ctrl-C the runner signals the groups;
when a step's first process ends, whatever it left behind in its group is killed, as Azure ML
ends a step's container. Should the runner itself die, even by ``kill -9``, the kernel kills
each step's first process (Linux's parent-death signal) and the run's watchdog process
(:mod:`kedro_azureml.local.watchdog`) kills the groups.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

from kedro_azureml.local.timeouts import GRACE_SECONDS, StepTimedOut
from kedro_azureml.local.warm_start import WarmProcess, WarmStarts

StepProcess = subprocess.Popen[bytes] | WarmProcess

logger = logging.getLogger(__name__)

POSIX = os.name == "posix"
_PR_SET_PDEATHSIG = 1


def _parent_death_signal() -> Callable[[], None] | None:
    """A ``preexec_fn`` that asks Linux to SIGKILL the child when the runner dies.

    libc is looked up here, in the parent: the child, forked from a threaded process, only
    calls the C function, which takes no lock.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def die_with_parent() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the runner died before the request took effect
            os._exit(1)

    return die_with_parent


def open_step_log(path: Path) -> IO[str]:
    """A step's log, emptied and opened for appending only.

    Three writers share it: the runner (the command line, then its own errors after the
    step), a cold step (given this descriptor) and a warm step, which opens the file again in
    the zygote's child and so has an offset of its own. With ``O_APPEND`` every write lands at
    the end whoever makes it; a plain ``"w"`` would have the runner's errors overwrite the
    start of a warm step's output, leaving the rest of that output after them.
    """

    def truncating(name: str, flags: int) -> int:
        return os.open(name, flags | os.O_TRUNC, 0o666)

    return open(path, "a", encoding="utf-8", opener=truncating)


def _signal_group(group: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group has ended
        os.killpg(group, signum)


class StepProcesses:
    """Starts the run's step processes and stops them: gently, at once, or on the runner's death.

    Thread-safe: steps start from the runner's worker threads, and :meth:`stop` is called from
    the main thread's signal handler.
    """

    def __init__(self, *, warm_starts: bool = False, warm_imports: Sequence[str] = ()) -> None:
        """With ``warm_starts``, :meth:`start` forks what it can from a warm interpreter
        (see ``warm_start``), which imports ``warm_imports`` too; without, every process
        starts cold."""
        self._warm = (
            WarmStarts(_parent_death_signal(), imports=warm_imports)
            if warm_starts and POSIX
            else None
        )
        self._lock = threading.RLock()
        self._running: dict[int, StepProcess] = {}  # process group -> its leader
        self._stop_signal: int | None = None
        self._die_with_parent = _parent_death_signal()
        self._watchdog: subprocess.Popen[str] | None = None

    # The watchdog ---------------------------------------------------------------------------
    def __enter__(self) -> StepProcesses:
        if POSIX:
            self._watchdog = subprocess.Popen(
                [sys.executable, "-m", "kedro_azureml.local.watchdog"],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                text=True,
                start_new_session=True,  # a signal to the runner's group must not reach it
            )
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()
        if self._warm is not None:
            self._warm.close()
        self._tell_watchdog("exit")
        if self._watchdog is not None:
            assert self._watchdog.stdin is not None
            self._watchdog.stdin.close()
            self._watchdog.wait()

    def _tell_watchdog(self, message: str) -> None:
        if self._watchdog is None or self._watchdog.stdin is None:
            return
        try:
            self._watchdog.stdin.write(f"{message}\n")
            self._watchdog.stdin.flush()
        except (BrokenPipeError, ValueError):
            logger.warning("The run --local watchdog is gone; steps may outlive a killed run.")

    # Starting and waiting -------------------------------------------------------------------
    def prepare_warm(self, cwd: Path, env: dict[str, str]) -> None:
        """Start warming the interpreter that steps of this folder and environment fork from."""
        if self._warm is not None:
            self._warm.prepare(cwd, env)

    def prepare_warm_only(self, needed: Sequence[tuple[Path, dict[str, str]]]) -> None:
        """Warm the interpreters of these folders and environments; end any other."""
        if self._warm is not None:
            self._warm.prepare_only(needed)

    def close_warm(self) -> None:
        """End the warm interpreters (again: :meth:`__exit__` ends them too)."""
        if self._warm is not None:
            self._warm.close()

    def start(
        self,
        argv: Sequence[str],
        *,
        cwd: Path,
        env: dict[str, str],
        log: IO[Any],
        warm: bool = False,
    ) -> StepProcess:
        """Start one step process; ``warm``: forked from a warm interpreter when the command
        allows it (a plain ``kedro`` command), else, and by default, a cold ``argv``."""
        process: StepProcess | None = None
        if warm and self._warm is not None and self._stop_signal is None:
            log.flush()
            process = self._warm.start(argv, cwd=cwd, env=env, log=Path(log.name))
        if process is None:
            process = subprocess.Popen(
                list(argv),
                cwd=cwd,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=POSIX,
                preexec_fn=self._die_with_parent,  # only a C call in the child: see above
            )
        with self._lock:
            self._running[process.pid] = process
            self._tell_watchdog(f"+{process.pid}")
            stop = self._stop_signal
        if stop is not None:  # stopped while this one was starting
            self._signal(process, stop)
        return process

    def wait_all(self, processes: list[StepProcess], timeout: float | None = None) -> int:
        """Wait for every rank; when one fails, stop the others instead of letting them hang.

        A rank that dies leaves its peers blocked in a collective until the backend's timeout
        (minutes); Azure ML likewise fails the whole step when one process fails. Returns the
        exit code of the first rank that failed (not of the peers stopped because of it), or 0.
        With ``timeout`` (the step's ``limits.timeout``), a step still running after that many
        seconds has every group stopped (SIGTERM, then SIGKILL) and raises StepTimedOut.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            while True:
                codes = [process.poll() for process in processes]
                failed = next((code for code in codes if code), None)
                if failed is not None:
                    self._stop_all(processes, signal.SIGTERM)
                    for process in processes:
                        process.wait()
                    return int(failed)
                if all(code is not None for code in codes):
                    return 0
                if deadline is not None and time.monotonic() >= deadline:
                    self._stop_within_grace(processes)
                    raise StepTimedOut(
                        f"exceeded its limits.timeout of {timeout:g}s and was stopped"
                    )
                time.sleep(0.05)
        finally:
            for process in processes:
                self._forget(process)

    def _stop_all(self, processes: list[StepProcess], signum: int) -> None:
        for process in processes:
            if process.poll() is None:
                self._signal(process, signum)

    def _stop_within_grace(self, processes: list[StepProcess]) -> None:
        """SIGTERM every group, SIGKILL what is still running after the grace period."""
        self._stop_all(processes, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                self._signal(process, getattr(signal, "SIGKILL", signal.SIGTERM))
                process.wait()

    def _forget(self, process: StepProcess) -> None:
        """The step's first process ended: what it left running in its group goes too."""
        if POSIX:
            _signal_group(process.pid, signal.SIGKILL)
        with self._lock:
            self._running.pop(process.pid, None)
            self._tell_watchdog(f"-{process.pid}")

    # Stopping -------------------------------------------------------------------------------
    def _signal(self, process: StepProcess, signum: int) -> None:
        if POSIX:
            _signal_group(process.pid, signum)
        elif process.poll() is None:
            process.kill() if signum == getattr(signal, "SIGKILL", None) else process.terminate()

    def stop(self, signum: int = signal.SIGINT) -> None:
        """Signal every step's whole process group, and every step that starts from now on."""
        with self._lock:
            self._stop_signal = signum
            running = list(self._running.values())
        for process in running:
            self._signal(process, signum)

    def kill(self) -> None:
        self.stop(getattr(signal, "SIGKILL", signal.SIGTERM))

    @property
    def running(self) -> int:
        with self._lock:
            return len(self._running)
