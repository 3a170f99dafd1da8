"""Real Kedro projects for the tests: made with `kedro new`, driven through subprocesses."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "spaceflights"


def quiet_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    # MLClient records its cloud process-wide; a subprocess must start from a clean slate.
    env.pop("AZUREML_CURRENT_CLOUD", None)
    env.update(
        KEDRO_DISABLE_TELEMETRY="true", DO_NOT_TRACK="1", PYTHONWARNINGS="ignore", COLUMNS="200"
    )
    env["PATH"] = os.pathsep.join([str(BIN), env.get("PATH", "")])
    env.update(extra)
    return env


def kedro(
    project: Path,
    *args: str,
    check: bool = True,
    timeout: float = 300,
    bin_dir: Path = BIN,
    **env: str,
) -> subprocess.CompletedProcess[str]:
    """Run `kedro ARGS` in ``project`` as a user would, from the test venv (or ``bin_dir``'s)."""
    environment = quiet_env(**env)
    if bin_dir != BIN:  # another venv: its programs first, as when it is activated
        environment["PATH"] = os.pathsep.join([str(bin_dir), environment["PATH"]])
        environment.pop("VIRTUAL_ENV", None)
    result = subprocess.run(
        [str(bin_dir / "kedro"), *args],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"kedro {' '.join(args)} exited {result.returncode}\n--- stdout\n{result.stdout[-6000:]}"
            f"\n--- stderr\n{result.stderr[-6000:]}"
        )
    return result


def last_run(project: Path) -> Path:
    """The newest run folder `kedro azureml run --local` made in ``project``."""
    return sorted((project / ".kedro-azureml" / "runs").iterdir())[-1]


def set_grouping(project: Path, strategy: str) -> None:
    """Pin azure.grouping in the azureml.yml `kedro azureml init` wrote (comments kept).

    For tests about steps of their own (a failing, hanging or resumed step, data crossing
    steps): ``none`` keeps one node per step whatever the default grouping does.
    """
    config = project / "conf" / "base" / "azureml.yml"
    text = config.read_text()
    line = next(line for line in text.splitlines() if line.startswith("  grouping: "))
    config.write_text(text.replace(line, f"  grouping: {strategy}"))


def new_project(parent: Path, name: str = "demo") -> Path:
    subprocess.run(
        [
            str(BIN / "kedro"),
            "new",
            f"--name={name}",
            "--tools=none",
            "--example=n",
            "--telemetry=no",
        ],
        cwd=parent,
        env=quiet_env(),
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return parent / name


SMALL_PIPELINE = """
from kedro.pipeline import Pipeline, node, pipeline


def scale(numbers, factor):
    return numbers.assign(x=numbers["x"] * factor)


def summarise(scaled):
    return {"sum": int(scaled["x"].sum()), "n": int(len(scaled))}


def to_csv(scaled):
    return scaled


def report(scaled_csv, summary):
    import os

    assert int(scaled_csv["x"].sum()) == summary["sum"], "CSV and summary disagree"
    if os.environ.get("MLFLOW_RUN_ID"):  # Azure ML and run --local start a run per step
        import mlflow

        mlflow.log_metric("total", summary["sum"])
    return {"total": summary["sum"], "rows": summary["n"], "max": int(scaled_csv["x"].max())}


def dump_env(scaled):
    import os

    return dict(os.environ)


def make_kinds(scaled):
    # A numpy array, and a plain Python object (a closure) that only cloudpickle can carry.
    import numpy as np

    factor = int(scaled["x"].iloc[0])
    return np.arange(10) * factor, lambda value: value + factor


def use_kinds(array, shift):
    return {"array_sum": int(array.sum()), "shifted": int(shift(100)), "dtype": str(array.dtype)}


def explode(scaled):
    raise RuntimeError("boom: this node always fails")


def register_pipelines() -> dict[str, Pipeline]:
    main = pipeline(
        [
            node(scale, ["numbers", "params:factor"], "scaled", name="scale"),
            node(summarise, "scaled", "summary", name="summarise"),
            node(to_csv, "scaled", "scaled_csv", name="to_csv"),
            node(report, ["scaled_csv", "summary"], "report", name="report"),
        ]
    )
    failing = main + pipeline(
        [
            node(explode, "scaled", "exploded", name="explode"),
            node(summarise, "exploded", "after_explode", name="after_explode"),
        ]
    )
    env = main + pipeline([node(dump_env, "scaled", "env_seen", name="dump_env")])
    kinds = main + pipeline(
        [
            node(make_kinds, "scaled", ["array", "shift"], name="make_kinds"),
            node(use_kinds, ["array", "shift"], "kinds_report", name="use_kinds"),
        ]
    )
    return {"__default__": main, "failing": failing, "env": env, "kinds": kinds}
"""


def write_small_pipeline(project: Path, package: str = "demo") -> None:
    (project / "src" / package / "pipeline_registry.py").write_text(SMALL_PIPELINE)
    (project / "conf" / "base" / "parameters.yml").write_text("factor: 3\n")
    (project / "conf" / "base" / "catalog.yml").write_text(
        textwrap.dedent(
            """\
            numbers:
              type: pandas.CSVDataset
              filepath: data/01_raw/numbers.csv
            scaled_csv:
              type: pandas.CSVDataset
              filepath: data/02_intermediate/scaled.csv
            """
        )
    )
    raw = project / "data" / "01_raw"
    raw.mkdir(parents=True, exist_ok=True)
    (raw / "numbers.csv").write_text("x\n" + "\n".join(str(i) for i in range(1, 11)) + "\n")


def copy_example(destination: Path) -> Path:
    target = destination / "spaceflights"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns(".kedro-azureml", "__pycache__"))
    subprocess.run(
        [sys.executable, "scripts/generate_data.py"], cwd=target, check=True, capture_output=True
    )
    return target
