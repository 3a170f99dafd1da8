"""``limits.timeout`` in ``run --local``: a step over its limit is stopped, as on Azure ML.

A step with a limit runs in its own process group, so stopping it stops everything it
started (bash, kedro, ranks, their children): SIGTERM to the group, then SIGKILL after a
short grace. Being in its own group, it no longer gets the terminal's Ctrl-C, so a Ctrl-C
sets :data:`INTERRUPTED` (see :func:`forward_interrupts`) and the waiting loop stops the
group itself.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

TIMED_OUT = "timed out"
GRACE_SECONDS = 5.0
INTERRUPTED = threading.Event()


class StepTimedOut(Exception):
    """The step ran longer than its ``limits.timeout``; its processes have been stopped."""


def stop_group(process: subprocess.Popen[bytes], grace: float = GRACE_SECONDS) -> None:
    """SIGTERM the process's group, SIGKILL what is left after ``grace`` seconds."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, None)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            if sig == signal.SIGTERM:
                os.killpg(process.pid, signal.SIGKILL)  # children the leader left behind
            return
        except subprocess.TimeoutExpired:
            continue
        except ProcessLookupError:
            return


def wait_within(processes: list[subprocess.Popen[bytes]], timeout: float) -> int:
    """Wait for every rank as ``wait_all_or_fail_fast`` does, but at most ``timeout`` seconds.

    Raises StepTimedOut after stopping every rank's process group. A Ctrl-C (INTERRUPTED)
    stops them too and returns 130, the shell's code for it.
    """
    deadline = time.monotonic() + timeout
    while True:
        codes = [process.poll() for process in processes]
        failed = next((code for code in codes if code), None)
        if failed is not None or all(code is not None for code in codes):
            for process in processes:
                if process.poll() is None:
                    stop_group(process)
            return int(failed or 0)
        if INTERRUPTED.is_set() or time.monotonic() >= deadline:
            for process in processes:
                stop_group(process)
            if INTERRUPTED.is_set():
                return 130
            raise StepTimedOut(f"exceeded its limits.timeout of {timeout:g}s and was stopped")
        time.sleep(0.05)


@contextmanager
def forward_interrupts() -> Iterator[None]:
    """While running steps, a Ctrl-C also tells steps in their own process group to stop."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: Any = signal.getsignal(signal.SIGINT)

    def on_interrupt(signum: int, frame: Any) -> None:
        INTERRUPTED.set()
        if callable(previous):
            previous(signum, frame)
        else:
            raise KeyboardInterrupt

    INTERRUPTED.clear()
    signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
