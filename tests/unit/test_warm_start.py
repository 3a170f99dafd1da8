"""Which step commands may start warm: only what bash would run as one plain `kedro` program."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

import pytest

from kedro_azureml.local.warm_start import PER_STEP_VARIABLES, WarmStarts, warm_program

ENV = {"PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/bin", "/bin"])}
PLAIN = shlex.join(["kedro", "azureml", "execute", "--node", "a b", "--az-input", "x", "/t/x"])


@pytest.mark.parametrize(
    ("argv", "warm"),
    [
        (["bash", "-c", PLAIN], True),
        (["bash", "-c", "cd /home/kedro_docker && " + PLAIN], False),  # docker image flow
        (["bash", "-c", PLAIN + " > out.log"], False),
        (["bash", "-c", "kedro azureml execute --node $NODE"], False),  # bash would expand it
        (["bash", "-c", "kedro  azureml execute"], False),  # not the canonical quoting
        (["bash", "-c", "python -m kedro azureml execute"], False),
        (["bash", "-c", "kedro 'unterminated"], False),
        (["sh", "-c", PLAIN], False),
        (["mpirun", "-n", "2", "bash", "-c", PLAIN], False),  # a distributed launch
    ],
    ids=[
        "plain",
        "cd-and",
        "redirect",
        "variable",
        "spacing",
        "python-m",
        "bad-quote",
        "sh",
        "mpi",
    ],
)
def test_only_a_plain_kedro_command_starts_warm(argv: list[str], warm: bool) -> None:
    program = warm_program(argv, ENV)
    assert (program == str(Path(sys.executable).parent / "kedro")) is warm


def test_a_kedro_of_another_environment_on_the_path_starts_cold(tmp_path: Path) -> None:
    other = tmp_path / "kedro"
    other.write_text("#!/usr/bin/python3\n")
    other.chmod(0o755)
    assert warm_program(["bash", "-c", PLAIN], {"PATH": str(tmp_path)}) is None


def test_steps_differing_only_in_their_own_variables_share_one_zygote() -> None:
    base = {**ENV, "A": "1"}
    per_step = {key: f"{key}-value" for key in PER_STEP_VARIABLES}
    assert WarmStarts._base({**base, **per_step}) == base
    assert "MLFLOW_RUN_ID" in PER_STEP_VARIABLES and "AZUREML_RUN_ID" in PER_STEP_VARIABLES


@pytest.mark.parametrize(
    ("uri", "imports"),
    [
        (None, ("mlflow", "mlflow.store.tracking.sqlalchemy_store")),  # our SQLite store
        ("postgresql://db/mlflow", ("mlflow", "mlflow.store.tracking.sqlalchemy_store")),
        ("http://localhost:5000", ("mlflow",)),
    ],
    ids=["own-store", "database", "server"],
)
def test_warm_starts_import_the_mlflow_client_the_steps_runs_need(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, uri: str | None, imports: tuple[str, ...]
) -> None:
    from kedro_azureml.local.tracking import step_imports

    if uri is None:
        monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    else:
        monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    source = tmp_path / "src" / "demo"
    source.mkdir(parents=True)
    (source / "nodes.py").write_text("def train():\n    return 1\n")
    assert step_imports(tmp_path, tmp_path / "src") == ()  # the project never names MLflow
    (source / "nodes.py").write_text("def train():\n    import mlflow\n")
    assert step_imports(tmp_path, tmp_path / "src") == imports


def test_the_zygote_maps_modules_to_their_files_once_for_its_children(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """dynaconf's ``inspect.stack()`` in every step then finds the map made."""
    import importlib
    import inspect

    from kedro_azureml.local.zygote import index_module_files

    (tmp_path / "zygote_indexed_demo.py").write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "zygote_indexed_demo", raising=False)
    module = importlib.import_module("zygote_indexed_demo")
    monkeypatch.setitem(sys.modules, "zygote_indexed_demo", module)  # removed afterwards
    path = os.path.realpath(str(module.__file__))
    assert path not in inspect.modulesbyfile

    index_module_files()

    assert inspect.modulesbyfile[path] == "zygote_indexed_demo"
