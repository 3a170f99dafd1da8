"""The guards of tests/unit/conftest.py hold: a unit test cannot start a process or load torch."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.unit.conftest import NoProcesses


@pytest.mark.parametrize(
    "start",
    [
        lambda: subprocess.run([sys.executable, "-c", "pass"], check=False),
        lambda: subprocess.Popen(["true"]),
        lambda: os.system("true"),
        lambda: os.fork(),
    ],
    ids=["run", "popen", "system", "fork"],
)
def test_a_unit_test_cannot_start_a_process(start: object) -> None:
    with pytest.raises(NoProcesses, match="move this test to tests/integration/"):
        start()  # type: ignore[operator]


def test_a_unit_test_cannot_import_torch() -> None:
    if "torch" in sys.modules:  # an integration test in this worker loaded it: no finder runs
        (blocker,) = [f for f in sys.meta_path if type(f).__name__ == "_BlockTorch"]
        with pytest.raises(ImportError, match="move this test to tests/integration/"):
            blocker.find_spec("torch.distributed", None)
        return
    with pytest.raises(ImportError, match="move this test to tests/integration/"):
        import torch  # noqa: F401
