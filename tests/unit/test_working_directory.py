"""The docker image flow's `cd <dir> &&`: built from parts, read back as data by run --local."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from kedro.pipeline import node, pipeline

from kedro_azureml.compiler.compile import compile_pipeline, job_yaml
from kedro_azureml.compiler.render import CompileOptions
from kedro_azureml.config import parse_config
from kedro_azureml.contract.working_directory import in_working_directory, split_working_directory
from kedro_azureml.local.job import read_steps
from kedro_azureml.local.runner import LocalJobRunner

DIRECTORIES = [
    "/home/kedro_docker",
    "/opt/my project",
    "/opt/it's here",
    '/opt/say "hi"',
    "/opt/a && b",
    "/opt/tab\there",
    "/opt/$HOME/`x`",
]


@pytest.mark.parametrize("directory", DIRECTORIES)
def test_the_working_directory_reads_back_as_written(directory: str) -> None:
    rest = "kedro azureml execute --node 'a && b' --az-output x ${{outputs.x}}"
    assert split_working_directory(in_working_directory(directory, rest)) == (directory, rest)


@pytest.mark.parametrize(
    "command",
    [
        "kedro azureml execute --node n",
        "cd",
        "cd a b && kedro azureml execute",
        "cdrom && x",
        "cd 'never closed && x",
        "echo cd x && y",
    ],
)
def test_other_commands_have_no_working_directory(command: str) -> None:
    assert split_working_directory(command) == (None, command)


def _f(value: Any) -> Any:
    return value


def test_a_quoted_docker_working_directory_reaches_the_runner_as_data(tmp_path: Path) -> None:
    directory = "/home/my project/it's here"
    config = parse_config(
        {
            "azure": {
                "resource_group": "rg",
                "workspace_name": "ws",
                "experiment_name": "exp",
                "compute": {"__default__": {"cluster_name": "cpu"}},
                "code_directory": None,
                "working_directory": directory,
            },
            "docker": {"image": "acr.local/demo:1"},
        }
    )
    pipe = pipeline([node(_f, "raw", "x", name="first"), node(_f, "x", "y", name="second")])
    catalog = {"raw": {"type": "pandas.CSVDataset", "filepath": "data/raw.csv"}}
    _, job = compile_pipeline(pipe, config, CompileOptions(), catalog.get, grouping="none")
    command = job.jobs["second"].command
    # Built from parts: the directory is one quoted word, `&&` a bare operator.
    assert command.startswith("cd '/home/my project/it'\"'\"'s here' && kedro azureml execute ")

    steps = {
        s.name: s for s in read_steps(yaml.safe_load(job_yaml(job, CompileOptions())), tmp_path)
    }
    second = steps["second"]
    assert second.working_directory == directory
    assert second.command == command.split(" && ", 1)[1]
    runner = LocalJobRunner(list(steps.values()), run_dir=tmp_path / "run", project_dir=tmp_path)
    bound = runner.bound_command(second)
    # The old pattern `cd (\S+) &&` missed the quoted directory and left the `cd` in.
    assert bound.startswith("kedro azureml execute ") and "cd " not in bound
    assert f"--az-input x {tmp_path / 'run' / 'data' / 'first' / 'x'}" in bound
    assert runner.working_dir(second) == tmp_path
