"""Parameters as pipeline inputs: compiled as typed job inputs, and applied in the steps.

A `kedro new` project whose nodes return the parameters they see as job outputs, so a test
reads exactly what a node received.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from kedro_azureml.step.serialization import load_object
from tests.support.kedro_projects import kedro, last_run

pytestmark = pytest.mark.slow

INIT = ["azureml", "init", "rg", "ws", "exp", "cpu-cluster", "env@latest"]

REGISTRY = """
from kedro.pipeline import Pipeline, node, pipeline


def score(weight, label, strict):
    return {"weight": weight, "label": label, "strict": strict}


def summarise(scoring):
    return {"scoring": scoring}


def untouched(other):
    return {"other": other}


def register_pipelines() -> dict[str, Pipeline]:
    return {
        "__default__": pipeline(
            [
                node(
                    score,
                    ["params:scoring.weight", "params:scoring.label", "params:scoring.strict"],
                    "seen",
                    name="score",
                ),
                node(summarise, "params:scoring", "summary", name="summarise"),
                node(untouched, "params:other", "other_seen", name="untouched"),
            ]
        )
    }
"""

PARAMETERS = """\
scoring:
  weight: 1.0
  label: plain
  strict: false
  keep: 7
other: 5
"""

JOBS = """
jobs:
  nightly:
    params: {scoring: {weight: 2.5}}
    inputs: [scoring.weight, scoring.label, scoring.strict]
    limits: {timeout: 1800}
    grouping: none
"""


@pytest.fixture
def scoring_project(blank_project: Path) -> Path:
    (blank_project / "src" / "demo" / "pipeline_registry.py").write_text(REGISTRY)
    (blank_project / "conf" / "base" / "parameters.yml").write_text(PARAMETERS)
    kedro(blank_project, *INIT)
    with (blank_project / "conf" / "base" / "azureml.yml").open("a") as stream:
        stream.write(JOBS)
    return blank_project


def _run(project: Path, *args: str) -> tuple[dict[str, Any], dict[str, Any]]:
    kedro(project, "azureml", "run", "--local", "--no-mlflow", *args)
    run_dir = last_run(project)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["succeeded"] is True, summary
    outputs = {name: load_object(path) for name, path in summary["job_outputs"].items()}
    job_yaml = run_dir / "pipeline.yaml"
    return outputs, yaml.safe_load(job_yaml.read_text()) if job_yaml.exists() else {}


def test_inputs_are_typed_pipeline_inputs_read_by_the_steps_that_need_them(
    scoring_project: Path,
) -> None:
    outputs, job = _run(scoring_project, "-j", "nightly")
    # The job's params are the defaults; every node sees them.
    assert job["inputs"] == {
        "scoring_weight": 2.5,
        "scoring_label": "plain",
        "scoring_strict": False,
    }
    assert outputs["seen"] == {"weight": 2.5, "label": "plain", "strict": False}
    assert outputs["summary"] == {
        "scoring": {"weight": 2.5, "label": "plain", "strict": False, "keep": 7}
    }
    steps = job["jobs"]
    # A node reading the parameter, or its parent key, gets the input; the others do not.
    assert steps["score"]["inputs"]["scoring_weight"] == {
        "path": "${{parent.inputs.scoring_weight}}"
    }
    assert steps["score"]["component"]["inputs"]["scoring_weight"] == {"type": "number"}
    assert steps["score"]["component"]["inputs"]["scoring_strict"] == {"type": "boolean"}
    assert set(steps["summarise"]["inputs"]) == {
        "scoring_weight",
        "scoring_label",
        "scoring_strict",
    }
    assert "inputs" not in steps["untouched"]
    assert (
        "--param-input scoring.weight number '${{inputs.scoring_weight}}'"
        in steps["score"]["component"]["command"]
    )
    assert {step["limits"]["timeout"] for step in steps.values()} == {1800}


def test_input_changes_what_the_node_sees(scoring_project: Path) -> None:
    outputs, job = _run(
        scoring_project,
        "-j",
        "nightly",
        "--input",
        "scoring.weight=3",
        "--input",
        "scoring_label=two words",
        "--input",
        "scoring.strict=true",
    )
    assert job["inputs"]["scoring_weight"] == 3.0
    assert outputs["seen"] == {"weight": 3.0, "label": "two words", "strict": True}
    assert outputs["summary"]["scoring"]["keep"] == 7
    assert outputs["other_seen"] == {"other": 5}


def test_input_of_a_compiled_yaml_changes_what_the_node_sees(
    scoring_project: Path, tmp_path: Path
) -> None:
    compiled = tmp_path / "nightly.yaml"
    kedro(scoring_project, "azureml", "compile", "-j", "nightly", "-o", str(compiled))
    outputs, _ = _run(
        scoring_project, "--from-yaml", str(compiled), "--input", "scoring.weight=4.5"
    )
    assert outputs["seen"]["weight"] == 4.5


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(
            ["--input", "scoring.weight=heavy"],
            "Input 'scoring.weight' is of type number; 'heavy' is not a number.",
            id="wrong-type",
        ),
        pytest.param(
            ["--input", "scoring.wait=3"],
            "--input scoring.wait: the job has no such input. Inputs: scoring_label, "
            "scoring_strict, scoring_weight.",
            id="unknown-input",
        ),
    ],
)
def test_bad_inputs_are_refused(scoring_project: Path, args: list[str], expected: str) -> None:
    result = kedro(
        scoring_project, "azureml", "run", "--local", "-j", "nightly", *args, check=False
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert expected in " ".join(result.stderr.split())


@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        pytest.param(
            "[scoring]",
            "jobs.nightly.inputs: parameter 'scoring' is a dict; a pipeline input is a number, "
            "integer, string or boolean.",
            id="mapping",
        ),
        pytest.param(
            "[scoring.wieght]",
            "jobs.nightly.inputs: parameter 'scoring.wieght' does not exist. Did you mean "
            "scoring.weight,",
            id="typo",
        ),
    ],
)
def test_inputs_that_cannot_be_inputs_are_compile_errors(
    scoring_project: Path, tmp_path: Path, inputs: str, expected: str
) -> None:
    config = scoring_project / "conf" / "base" / "azureml.yml"
    config.write_text(
        config.read_text().replace(
            "inputs: [scoring.weight, scoring.label, scoring.strict]", f"inputs: {inputs}"
        )
    )
    result = kedro(
        scoring_project,
        "azureml",
        "compile",
        "-j",
        "nightly",
        "-o",
        str(tmp_path / "x.yaml"),
        check=False,
    )
    assert result.returncode == 1
    assert expected in " ".join(result.stderr.split())


def test_the_examples_nightly_job_runs_here_with_an_input(tmp_path: Path) -> None:
    from tests.support.kedro_projects import copy_example

    example = copy_example(tmp_path)
    test_size = "data_science.active_modelling_pipeline.model_options.test_size"
    outputs, job = _run(example, "-j", "nightly", "--input", f"{test_size}=0.3")
    assert job["experiment_name"] == "spaceflights-nightly"
    assert job["inputs"] == {"data_science_active_modelling_pipeline_model_options_test_size": 0.3}
    split = next(s for s in job["jobs"].values() if "split_data_node" in s["component"]["command"])
    command = split["component"]["command"]
    assert f"--param-input {test_size} number" in command
    assert '"random_state": 7' in command  # the job's params
    metrics = outputs["data_science_active_modelling_pipeline_metrics"]
    assert set(metrics) == {"r2_score", "mae", "max_error"}
