"""The Kedro env whose config decides the compiled job is the env every step loads."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kedro_azureml.step.serialization import load_object
from tests.support.kedro_projects import kedro, last_run

pytestmark = pytest.mark.slow

INIT = ["azureml", "init", "rg", "ws", "exp", "cpu-cluster", "kedro-env@latest"]

DISTRIBUTED_PIPELINE = """
from kedro.pipeline import Pipeline, node, pipeline

from kedro_azureml.distributed import Framework, distributed_job


@distributed_job(Framework.PyTorch, num_nodes="params:num_nodes")
def train(numbers, num_nodes):
    return {"num_nodes": num_nodes}


def register_pipelines() -> dict[str, Pipeline]:
    return {
        "__default__": pipeline(
            [node(train, ["numbers", "params:num_nodes"], "seen", name="train")]
        )
    }
"""


@pytest.fixture
def env_project(small_project: Path) -> Path:
    """num_nodes is 2 in conf/base, 3 in conf/local (this machine's env, never uploaded)."""
    (small_project / "src" / "demo" / "pipeline_registry.py").write_text(DISTRIBUTED_PIPELINE)
    (small_project / "conf" / "base" / "parameters.yml").write_text("num_nodes: 2\n")
    (small_project / "conf" / "local" / "parameters.yml").write_text("num_nodes: 3\n")
    kedro(small_project, *INIT)
    return small_project


def _train_step(project: Path, name: str = "pipeline.yaml") -> dict:
    job = yaml.safe_load((project / name).read_text())
    return dict(job["jobs"]["train"])


def test_without_env_compile_and_steps_read_the_base_env(env_project: Path) -> None:
    result = kedro(env_project, "azureml", "compile")
    step = _train_step(env_project)
    # Before: compile read conf/local (Kedro's default run env) and gave 3 machines, while
    # the step, run with --env base, read num_nodes 2.
    assert step["resources"] == {"instance_count": 2}
    assert "--env base" in step["component"]["command"]
    assert "Kedro environment 'base' (default: the base env, not 'local')" in result.stdout

    run = kedro(env_project, "azureml", "run", "--local", "--from-yaml", "pipeline.yaml")
    assert "1/1" in run.stdout
    assert load_object(str(last_run(env_project) / "outputs" / "seen")) == {"num_nodes": 2}


def test_an_uploaded_env_decides_the_job_and_the_steps(env_project: Path) -> None:
    azure = env_project / "conf" / "azure"
    azure.mkdir()
    (azure / "parameters.yml").write_text("num_nodes: 4\n")
    result = kedro(env_project, "azureml", "compile", "-e", "azure")
    step = _train_step(env_project)
    assert step["resources"] == {"instance_count": 4}
    assert "--env azure" in step["component"]["command"]
    assert "Kedro environment 'azure':" in result.stdout

    from_variable = kedro(
        env_project, "azureml", "compile", "-o", "kedro-env.yaml", KEDRO_ENV="azure"
    )
    assert _train_step(env_project, "kedro-env.yaml")["resources"] == {"instance_count": 4}
    assert "Kedro environment 'azure' (from $KEDRO_ENV)" in from_variable.stdout


@pytest.mark.parametrize("command", [["compile"], ["run", "--local"]], ids=["compile", "run-local"])
def test_an_env_left_out_of_the_upload_is_refused_at_compile(
    env_project: Path, command: list[str]
) -> None:
    result = kedro(env_project, "azureml", *command, "-e", "local", check=False)
    text = result.stdout + result.stderr
    assert result.returncode == 1, text
    assert "Kedro environment 'local' cannot be used on Azure ML: conf/local/ is left out" in text
    assert ".amlignore" in text
    assert "Traceback" not in text
    assert not (env_project / "pipeline.yaml").exists()
