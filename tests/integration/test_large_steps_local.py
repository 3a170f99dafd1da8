"""Steps of many nodes keep a short command; a step too wide to start is refused at compile.

Before, a step's command named every node (``--node X`` each): a namespace of ~2800 nodes
made a 131 KB command, and `run --local` failed with "Argument list too long" (Azure ML would
have been asked to run it too).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from kedro_azureml.step.serialization import load_object
from tests.support.kedro_projects import kedro, last_run

pytestmark = pytest.mark.slow

INIT = ["azureml", "init", "rg", "ws", "exp", "cpu-cluster", "kedro-env@latest"]

REGISTRY = """
from kedro.pipeline import Pipeline, node


def add_one(value):
    return value + 1


def report(value):
    return {"value": value}


def part(start, index):
    return start + index


def combine(*parts):
    return {"total": sum(parts), "parts": len(parts)}


def chain(length):
    # One namespace, so one step: the nodes' outputs stay in memory inside it.
    nodes = [
        node(
            add_one,
            "params:start" if i == 0 else f"value_{i - 1:04d}",
            f"value_{i:04d}",
            name=f"add_one_to_the_value_{i:04d}",
            namespace="feature_engineering",
        )
        for i in range(length)
    ]
    return Pipeline(nodes + [node(report, f"value_{length - 1:04d}", "report", name="report")])


def fan_in(width):
    parts = [
        node(part, ["params:start", f"params:index_{i}"], f"part_{i:04d}", name=f"part_{i:04d}")
        for i in range(width)
    ]
    return Pipeline(parts + [node(combine, [f"part_{i:04d}" for i in range(width)], "combined", name="combine")])


def register_pipelines() -> dict[str, Pipeline]:
    return {"__default__": chain(400), "huge": chain(2800), "fan_in": fan_in(700)}
"""


@pytest.fixture
def large_project(blank_project: Path) -> Path:
    (blank_project / "src" / "demo" / "pipeline_registry.py").write_text(REGISTRY)
    params = ["start: 10"] + [f"index_{i}: {i}" for i in range(700)]
    (blank_project / "conf" / "base" / "parameters.yml").write_text("\n".join(params) + "\n")
    kedro(blank_project, *INIT)
    return blank_project


def _commands(path: Path) -> dict[str, str]:
    jobs = yaml.safe_load(path.read_text())["jobs"]
    return {name: job["component"]["command"] for name, job in jobs.items()}


def test_a_step_of_400_nodes_runs_locally_with_a_short_command(large_project: Path) -> None:
    result = kedro(large_project, "azureml", "run", "--local", "--no-mlflow")
    run_dir = last_run(large_project)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert {name: step["status"] for name, step in summary["steps"].items()} == {
        "feature_engineering": "succeeded",
        "report": "succeeded",
    }
    assert "2/2" in result.stdout
    assert load_object(str(run_dir / "outputs" / "report")) == {"value": 410}
    command = _commands(run_dir / "pipeline.yaml")["feature_engineering"]
    assert "--node " not in command and " --nodes " in command
    assert len(command) < 300  # 400 `--node` options took 19 KB


def test_a_namespace_of_2800_nodes_compiles_to_a_short_command(large_project: Path) -> None:
    kedro(large_project, "azureml", "compile", "-p", "huge", "-o", "huge.yaml")
    commands = _commands(large_project / "huge.yaml")
    assert sorted(commands) == ["feature_engineering", "report"]
    # Before: 131,681 bytes, over Linux's 128 KiB for one argument.
    assert len(commands["feature_engineering"]) < 300


def test_a_step_with_700_crossing_inputs_is_refused_at_compile(large_project: Path) -> None:
    result = kedro(
        large_project, "azureml", "compile", "-p", "fan_in", "--group-by", "none", check=False
    )
    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    message = " ".join(output.split())
    size = re.search(r"Step 'combine' would run a command of about (\d+) KiB", message)
    assert size and 96 < int(size.group(1)) < 160, message
    assert (
        "a step's command must stay under 96 KiB (Linux refuses an argument over 128 KiB, so "
        "neither Azure ML nor run --local could start it): 700 datasets cross into it and 1 "
        "out of it, each an input or output folder on the command line. Group the pipeline so "
        "that fewer datasets cross this step's boundary (e.g. put the nodes that make its "
        "inputs into its namespace, or use --group-by tag with group.<name> tags), or pass "
        "fewer, larger datasets (e.g. one dict or PartitionedDataset instead of thousands)."
    ) in message
    assert not (large_project / "pipeline.yaml").exists()
