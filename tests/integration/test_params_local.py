"""`--params` and `--env-var` reach the nodes of a `run --local` step unchanged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from kedro_azureml.step.serialization import load_object
from tests.support.kedro_projects import kedro, last_run

INIT = ["azureml", "init", "rg", "ws", "exp", "cpu-cluster", "acct", "container", "env@latest"]

REGISTRY = """
import os

from kedro.pipeline import Pipeline, node, pipeline


def echo(msg):
    return {"msg": msg}


def nested(a, c):
    return {"a": a, "c": c}


def read_env():
    return {name: os.environ.get(name) for name in ("MY_VAR", "AZUREML_X")}


def register_pipelines() -> dict[str, Pipeline]:
    return {
        "__default__": pipeline(
            [
                node(echo, "params:msg", "echoed", name="echo"),
                node(nested, ["params:a", "params:c"], "nested_out", name="nested"),
                node(read_env, None, "env_seen", name="read_env"),
            ]
        )
    }
"""

PARAMETERS = """\
msg: default message
a:
  b: 0
  keep: k
c: y
"""

TRICKY = 'it\'s $HOME "quoted" ünïcode `date` \\n; rm -rf /tmp/nothing'


@pytest.fixture
def echo_project(blank_project: Path) -> Path:
    """A `kedro new` project whose nodes return their parameters and environment variables."""
    (blank_project / "src" / "demo" / "pipeline_registry.py").write_text(REGISTRY)
    (blank_project / "conf" / "base" / "parameters.yml").write_text(PARAMETERS)
    kedro(blank_project, *INIT)
    return blank_project


def _outputs(project: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The latest run's job outputs, and its compiled job YAML."""
    run_dir = last_run(project)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["succeeded"] is True, summary
    outputs = {name: load_object(path) for name, path in sorted(summary["job_outputs"].items())}
    return outputs, yaml.safe_load((run_dir / "pipeline.yaml").read_text())


def test_json_params_and_env_var_survive_quoting(echo_project: Path) -> None:
    params = json.dumps({"msg": TRICKY, "c": "ç"}, ensure_ascii=False)
    env_value = "héllo $USER 'single' \"double\""
    kedro(
        echo_project,
        "azureml",
        "run",
        "--local",
        "--params",
        params,
        "--env-var",
        f"MY_VAR={env_value}",
    )
    outputs, job = _outputs(echo_project)
    assert outputs == {
        "echoed": {"msg": TRICKY},
        "nested_out": {"a": {"b": 0, "keep": "k"}, "c": "ç"},
        "env_seen": {"MY_VAR": env_value, "AZUREML_X": None},
    }
    assert job["jobs"]["echo"]["environment_variables"] == {"MY_VAR": env_value}


def test_kedro_syntax_params_reach_nested_params(echo_project: Path) -> None:
    result = kedro(
        echo_project,
        "azureml",
        "run",
        "--local",
        "--params",
        "a.b=1,c=x",
        "--env-var",
        "AZUREML_X=1",
    )
    outputs, _ = _outputs(echo_project)
    assert outputs["nested_out"] == {"a": {"b": 1, "keep": "k"}, "c": "x"}
    assert outputs["echoed"] == {"msg": "default message"}
    assert outputs["env_seen"] == {"MY_VAR": None, "AZUREML_X": "1"}
    output = " ".join((result.stdout + result.stderr).split())
    assert "--env-var AZUREML_X may shadow a variable Azure ML sets itself (AZUREML_*)." in output


@pytest.mark.parametrize(
    ("item", "shown"),
    [("NOVALUE", "NOVALUE"), ("1A=s3cret-value", "1A=...")],
    ids=["no-equals", "bad-name"],
)
def test_malformed_env_var_exits_2(echo_project: Path, item: str, shown: str) -> None:
    result = kedro(echo_project, "azureml", "run", "--local", "--env-var", item, check=False)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"Invalid value for --env-var: '{shown}' is not KEY=VALUE" in result.stderr
    assert "s3cret-value" not in result.stdout + result.stderr  # a value is never echoed
    assert not (echo_project / ".kedro-azureml" / "runs").exists()
