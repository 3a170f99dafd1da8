"""A warm interpreter that forks ``run --local`` step processes (``python -m`` of this module).

A step's start-up is mostly imports: Kedro, then the project's pipeline modules and what they
import (pandas, scikit-learn: seconds). This process imports them once, in the step's working
directory and environment, and then forks one child per step. Each child is a fresh copy of
this untouched process, never of another step, so nothing a step does (a module global it
sets, a cache it fills) reaches the next one. The child then becomes exactly what ``bash -c
<command>`` would have started: same argv, working directory, environment (with what bash and
Python's start-up add to it), stdin from /dev/null, stdout and stderr to the step's log, a
session of its own, and a normal interpreter exit (atexit handlers, flushed streams).

Protocol, one JSON document per line, over stdin and the pipe whose descriptor is argv[1]
(stdout and stderr are for whatever importing prints): the runner writes the base environment
and the modules to import beyond Kedro and the project (``env``, ``imports``) first, then one
request per step (``argv``, ``cwd``, ``env``, ``log``, ``program``); this process answers
``{"ready": true}`` once warm (with ``"cold": <why>`` when its steps must start cold),
``{"pid": N}`` per request, and ``{"exit": N, "code": C}`` when a child ends (C as
``Popen.returncode``: negative for a signal). It ends when its stdin closes.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import importlib
import inspect
import json
import logging
import os
import pkgutil
import random
import re
import select
import signal
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

_PR_SET_PDEATHSIG = 1


_channel = 1  # the descriptor answers go to: the runner's pipe, given as argv[1]


def _send(message: dict[str, Any]) -> None:
    os.write(_channel, (json.dumps(message) + "\n").encode())


def _project_package(root: Path) -> tuple[str, Path] | None:
    """The Kedro project's package and source folder, as ``bootstrap_project`` finds them."""
    try:
        import tomllib
    except ImportError:  # Python 3.10
        return None
    try:
        kedro = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["kedro"]
        return str(kedro["package_name"]), root / str(kedro.get("source_dir", "src"))
    except (OSError, KeyError, ValueError):
        return None


def _output_of(action: Callable[[], object]) -> bytes:
    """What ``action`` writes to this process's stdout and stderr (descriptors 1 and 2)."""
    with tempfile.TemporaryFile() as capture:
        _flush_streams()
        saved = os.dup(1), os.dup(2)
        os.dup2(capture.fileno(), 1)
        os.dup2(capture.fileno(), 2)
        try:
            action()
        finally:
            _flush_streams()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
        capture.seek(0)
        return capture.read()


def _without_digits(output: bytes) -> bytes:
    """Output with its times (rich's time column, ``asctime``) reduced to their shape."""
    return re.sub(rb"\d", b"0", output)


def _import_kedro_project() -> None:
    # Configures logging from the project's conf/logging.yml or KEDRO_LOGGING_CONFIG, as the
    # step's first import of Kedro does, and logs which configuration it used.
    import kedro.framework.project  # noqa: F401


def _configure_logging_again() -> None:
    from kedro.framework.project import LOGGING

    LOGGING.__init__()  # type: ignore[misc]


def _import_the_rest(root: Path) -> None:
    with contextlib.suppress(Exception):
        from kedro.framework.cli.cli import KedroCLI  # noqa: F401
        from kedro.framework.cli.utils import load_entry_points
        from kedro.framework.session import KedroSession  # noqa: F401
        from kedro.runner import SequentialRunner  # noqa: F401

        load_entry_points("project")
        load_entry_points("global")
    found = _project_package(root)
    if found is None:
        return
    package, source = found
    if str(source) not in sys.path:
        sys.path.insert(0, str(source))  # as bootstrap_project does; the step does it again
    names = [f"{package}.settings", f"{package}.pipeline_registry"]
    with contextlib.suppress(Exception):
        pipelines = importlib.import_module(f"{package}.pipelines")
        names += [
            f"{package}.pipelines.{info.name}"
            for info in pkgutil.iter_modules(pipelines.__path__)
            if info.ispkg
        ]
    for name in names:
        with contextlib.suppress(Exception):
            importlib.import_module(name)


def warm_up(root: Path) -> str | None:
    """Import what every step imports: Kedro's CLI and session, the plugins' commands (by
    their entry points, as ``kedro`` loads them), and the project's pipeline modules.

    Nothing is run: no session, no ``register_pipelines()``. A module that fails to import
    here is left for the step, which fails on it exactly as a cold start would.

    What importing prints would be missing from every warm step's log, so it is checked: the
    only output allowed is the line Kedro logs when it sets logging up, which each child
    repeats (:func:`_set_up_logging_again`). Returns why steps must start cold, or None.
    """
    global _loggers_before_the_rest
    try:
        first = _output_of(_import_kedro_project)
        again = _output_of(_configure_logging_again)
    except Exception as exc:  # the step's own import of Kedro would fail as well
        return f"importing Kedro failed ({type(exc).__name__})"
    if _without_digits(first) != _without_digits(again):
        return "importing Kedro printed more than its logging set-up"
    _loggers_before_the_rest = set(logging.root.manager.loggerDict)
    if _output_of(lambda: _import_the_rest(root)):
        return "importing the plugins or the project's pipeline modules printed output"
    index_module_files()
    return None


# The loggers that existed when Kedro set logging up: only these can its configuration change
# (``disable_existing_loggers``), in a cold step as in a warm one.
_loggers_before_the_rest: set[str] = set()


def _set_up_logging_again() -> None:
    """Set logging up as the step's first import of Kedro would: handlers of this process,
    Kedro's line about the configuration in the step's log, at the step's time. Loggers that
    importing created afterwards keep their state, as they would have in a cold step."""
    later = {
        name: (logger.level, list(logger.handlers), logger.propagate, logger.disabled)
        for name, logger in logging.root.manager.loggerDict.items()
        if name not in _loggers_before_the_rest and isinstance(logger, logging.Logger)
    }
    _configure_logging_again()
    for name, (level, handlers, propagate, disabled) in later.items():
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.handlers = handlers
        logger.propagate = propagate
        logger.disabled = disabled


def _become_step(request: dict[str, Any], added_by_python: dict[str, str]) -> None:
    """In the forked child: turn into the step's process, then run ``kedro``'s main.

    Returns only by raising SystemExit, as the ``kedro`` script ends.
    """
    # What the zygote imported stays alive to the end: the cyclic collector need not walk it
    # during the step, nor in its final collection at exit (writing to every page it shares
    # with the zygote). Nothing of it is garbage, so nothing a step does or prints changes.
    gc.freeze()
    os.setsid()
    os.close(_channel)
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    null = os.open(os.devnull, os.O_RDONLY)
    log = os.open(request["log"], os.O_WRONLY | os.O_APPEND)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(null)
    os.close(log)
    os.chdir(request["cwd"])
    env = dict(request["env"])
    # What bash -c adds when it runs a simple command, then what Python's start-up added
    # (e.g. LC_CTYPE by locale coercion) in this process, which the step would add too.
    env["PWD"] = request["cwd"]
    env.setdefault("SHLVL", "0")
    env["_"] = request["program"]
    for key, value in added_by_python.items():
        env.setdefault(key, value)
    os.environ.clear()
    os.environ.update(env)
    # A fresh process draws fresh random state; a forked one would repeat its siblings'.
    random.seed()
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        with contextlib.suppress(Exception):
            numpy.random.seed()
    sys.argv = [request["program"], *request["argv"][1:]]
    _set_up_logging_again()
    from kedro.framework.cli import main

    main()  # click's standalone mode ends with SystemExit, as the `kedro` script does
    sys.exit(0)


def _reap() -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _send({"exit": pid, "code": os.waitstatus_to_exitcode(status)})


class _Lines:
    """Lines from stdin, read unbuffered so that ``select`` on the descriptor tells the truth."""

    def __init__(self) -> None:
        self._pending = b""
        self._queued: list[bytes] = []
        self.closed = False

    def read(self) -> list[bytes]:
        chunk = os.read(0, 65536)
        if not chunk:
            self.closed = True
        *lines, self._pending = (self._pending + chunk).split(b"\n")
        queued, self._queued = self._queued, []
        return queued + lines

    @property
    def queued(self) -> bool:
        return bool(self._queued)

    def take_queued(self) -> list[bytes]:
        queued, self._queued = self._queued, []
        return queued

    def first(self) -> bytes:
        while not self.closed:
            lines = self.read()
            if lines:
                self._queued = lines[1:]
                return lines[0]
        return b"{}"


def _flush_streams() -> None:
    """Empty what importing left in this process's stream buffers (its /dev/null) before a
    fork: a child would otherwise write it into its step's log when it exits."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()


def index_module_files() -> None:
    """Map every imported module to its file in ``inspect``'s cache, once, for the children.

    Kedro loads a project's settings through dynaconf, which calls ``inspect.stack()``; the
    first call in a process maps each module of ``sys.modules`` to its real path, and this
    process has thousands (scikit-learn, pandas, MLflow): half a second in every step. The
    children inherit the map instead; it only says which file each module was loaded from,
    the same in every step, and ``inspect`` still maps modules imported later by itself.
    """
    # A code object of no module: looking its module up scans sys.modules, filling the map.
    inspect.getmodule(compile("", "<kedro-azureml: index module files>", "exec"))


def _import_later(name: str) -> bool:
    """Import ``name`` between requests; False when importing printed something. Children
    that end meanwhile are reported at once (SIGCHLD), not once the import is done."""
    previous = signal.signal(signal.SIGCHLD, lambda signum, frame: _reap())
    try:
        printed = _output_of(lambda: _import_quietly(name))
        index_module_files()
    finally:
        signal.signal(signal.SIGCHLD, previous)
    return not printed


def _import_quietly(name: str) -> None:
    with contextlib.suppress(Exception):  # a step importing it fails as it would cold
        importlib.import_module(name)


def serve(lines: _Lines, added_by_python: dict[str, str], later: Sequence[str] = ()) -> None:
    """Fork a child per request. Once the first step is forked, and while no request waits,
    import ``later`` (what the steps will probably import, MLflow's client when they get
    MLflow runs) one module at a time: the first step never waits for such an import (the
    zygote is often warm before the runner has compiled the job and opened MLflow's store,
    and the import would then still be running when the first request comes), the later
    ones find it imported. Once one of them printed something, every request is answered
    ``{"pid": -1, "cold": <why>}``."""
    pending = list(later)
    cold: str | None = None
    forked = False
    while not lines.closed:
        readable, _, _ = select.select([0], [], [], 0.02)
        _reap()
        if not readable and not lines.queued:
            if pending and cold is None and forked and not _import_later(pending.pop(0)):
                cold = "importing the modules the steps' MLflow runs need printed output"
            continue
        for line in lines.read() if readable else lines.take_queued():
            if cold is not None:
                _send({"pid": -1, "cold": cold})
                continue
            _flush_streams()
            pid = os.fork()
            if pid == 0:
                _become_step(json.loads(line), added_by_python)
            _send({"pid": pid})
            forked = True
    # The runner is done (or gone); children still running end with their steps.


def main() -> None:
    global _channel
    # Answers go to a pipe of their own: stdout and stderr take what imports print or log.
    _channel = int(sys.argv[1])
    # Like the `kedro` script, whose folder is sys.path[0]; `-m` put the working folder there.
    sys.path[0] = str(Path(sys.executable).parent)
    lines = _Lines()
    first = json.loads(lines.first())
    given = first.get("env", {})
    added_by_python = {k: v for k, v in os.environ.items() if k not in given}
    cold = warm_up(Path.cwd())
    _send({"ready": True} if cold is None else {"ready": True, "cold": cold})
    serve(lines, added_by_python, [str(name) for name in first.get("imports", [])])


if __name__ == "__main__":
    main()
