"""The watchdog of one ``run --local``: kills the run's step process groups if the runner dies.

``run --local`` starts it first, in a session of its own, and keeps a pipe to its stdin open:
``+PGID`` / ``-PGID`` lines say which step process groups exist. When the pipe closes without
``exit`` (the runner was killed, even with ``kill -9``, or crashed), the watchdog kills every
group it knows, so no step process, nor any process a step started, outlives the run. Linux's
parent-death signal cannot do this alone: it reaches only a step's first process.

Standard library only: it starts in a few milliseconds and imports nothing of the project.
"""

from __future__ import annotations

import os
import signal
import sys

EXIT = "exit"


def kill_groups(groups: set[int]) -> None:
    for group in sorted(groups):
        try:
            os.killpg(group, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            continue  # already gone


def watch(lines: object) -> set[int]:
    """Follow the runner's messages; return the groups left when it stopped talking."""
    groups: set[int] = set()
    for line in lines:  # type: ignore[attr-defined]
        message = str(line).strip()
        if message == EXIT:
            return set()
        if message[:1] in "+-" and message[1:].isdigit():
            group = int(message[1:])
            if message[0] == "+":
                groups.add(group)
            else:
                groups.discard(group)
    return groups


def main() -> None:
    # Ctrl-C and a closing terminal are for the runner, which stops its steps itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    kill_groups(watch(sys.stdin))


if __name__ == "__main__":
    main()
