"""Guards of the fast lane: a unit test runs in this process only.

A test that starts a process or imports torch belongs in tests/integration/; here it fails at
once, saying so, instead of quietly making ``make unit`` slow. (Azurite and the REST stand-in
are fixtures of tests/integration/conftest.py, so a unit test cannot ask for them.)
"""

from __future__ import annotations

import importlib.abc
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from types import ModuleType
from typing import Any

import numpy.testing  # noqa: F401  numpy 1.x runs `lscpu` when this is first imported: here, before the guard
import pytest

MOVE = "move this test to tests/integration/ (unit tests run in-process only)"


class NoProcesses(Exception):
    pass


class _BlockTorch(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> None:
        if fullname.partition(".")[0] == "torch":
            raise ImportError(f"a unit test imported {fullname}: {MOVE}")


@pytest.fixture(autouse=True)
def in_process_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise NoProcesses(f"a unit test started a process: {MOVE}")

    monkeypatch.setattr(subprocess.Popen, "_execute_child", refuse)
    for name in ("system", "fork", "forkpty", "posix_spawn", "posix_spawnp"):
        if hasattr(os, name):
            monkeypatch.setattr(os, name, refuse)
    blocker = _BlockTorch()
    sys.meta_path.insert(0, blocker)
    try:
        yield
    finally:
        sys.meta_path.remove(blocker)
