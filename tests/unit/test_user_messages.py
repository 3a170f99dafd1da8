"""Messages for the mistakes users make: each says what is wrong, where, and what to do."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from kedro.pipeline import node, pipeline

from kedro_azureml.commands.compile import read_job_yaml
from kedro_azureml.commands.run_local import RUNS_DIR, new_run_dir
from kedro_azureml.compiler.compile import compile_pipeline
from kedro_azureml.compiler.render import CompileOptions
from kedro_azureml.config import parse_config
from kedro_azureml.contract.options import (
    check_image,
    check_subscription_id,
    parse_env_vars,
    parse_params,
)
from kedro_azureml.errors import CompileError, ConfigError, KedroAzureMLError

GUID = "12345678-1234-1234-1234-123456789abc"


def _config(**azure: object) -> dict:
    return {
        "azure": {
            "resource_group": "rg",
            "workspace_name": "ws",
            "experiment_name": "exp",
            "compute": {"__default__": {"cluster_name": "cpu"}},
            "environment_name": "kedro-env@latest",
            **azure,
        }
    }


@pytest.mark.parametrize(
    ("text", "got"),
    [("[1,2]", "got a JSON list"), ('"x"', "got a JSON str"), ("3", "got a JSON int")],
    ids=["list", "string", "number"],
)
def test_params_that_are_json_but_no_object_say_what_params_takes(text: str, got: str) -> None:
    # Before: "'[1' is not key=value" for '[1,2]'.
    with pytest.raises(click.BadParameter) as error:
        parse_params(text)
    assert got in error.value.message
    assert "--params takes a JSON object" in error.value.message
    assert "key=value" in error.value.message
    assert error.value.param_hint == "--params"


def test_a_newline_in_an_env_var_name_is_a_usage_error_but_kept_in_a_value() -> None:
    # Before: "FOO\n" passed the name check (a regex ending in $ matches before "\n").
    with pytest.raises(click.BadParameter, match="control characters such as a newline"):
        parse_env_vars(["FOO\n=x"])
    assert parse_env_vars(["FOO=x:\n"]) == {"FOO": "x:\n"}


@pytest.mark.parametrize("image", ["repo/img:1\n", "img\t", "a b", " "], ids=repr)
def test_an_image_with_control_characters_is_a_usage_error(image: str) -> None:
    with pytest.raises(click.BadParameter, match="not a docker image reference") as error:
        check_image(image)
    assert error.value.param_hint == "-i/--image"


def test_a_clean_image_passes() -> None:
    assert check_image("myacr.azurecr.io/project:1.0@sha256:abc") is not None


@pytest.mark.parametrize("value", ["not-a-guid", GUID + "0", "{" + GUID + "}"])
def test_a_subscription_id_must_be_a_guid(value: str) -> None:
    with pytest.raises(click.BadParameter, match="is a GUID") as error:
        check_subscription_id(value, "-s/--subscription-id")
    assert error.value.param_hint == "-s/--subscription-id"
    assert check_subscription_id(f" {GUID} ", "-s") == GUID


@pytest.mark.parametrize(
    ("azure", "expected"),
    [
        ({"experiment_name": "x" * 5_000_000}, "(5000000 characters) is not a valid experiment"),
        ({"experiment_name": "my experiment"}, "'my experiment' is not a valid experiment name"),
        ({"experiment_name": "x" * 257}, "1-256 letters, digits"),
        (
            {"compute": {"__default__": {"cluster_name": "1cpu"}}},
            "'1cpu' is not a valid compute name",
        ),
        ({"compute": {"__default__": {"cluster_name": "c" * 25}}}, "2-24 letters"),
        ({"subscription_id": "my-sub"}, "'my-sub' is not an Azure subscription ID"),
        ({"environment_name": "kedro-env@latest\n"}, "name@latest or name:version"),
    ],
    ids=["5MB-experiment", "space", "257", "digit-first", "25-chars", "subscription", "newline"],
)
def test_names_azure_ml_would_refuse_are_config_errors(azure: dict, expected: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config(_config(**azure), locate=lambda loc: "conf/base/azureml.yml")
    message = str(error.value)
    assert expected in message
    assert "conf/base/azureml.yml: azure." in message  # the file holding the bad key
    assert len(message) < 1000


def test_valid_names_pass() -> None:
    config = parse_config(_config(experiment_name="My_exp-2", subscription_id=GUID))
    assert config.azure.experiment_name == "My_exp-2"


def _one(value: object) -> object:
    return value


def test_a_long_node_name_fits_the_display_name_and_a_long_job_name_is_refused() -> None:
    name = "n" * 300
    pipe = pipeline([node(_one, "raw", "out", name=name)])
    catalog = {"raw": {"type": "pandas.CSVDataset", "filepath": "data/01_raw/raw.csv"}}
    config = parse_config(_config())
    _, job = compile_pipeline(pipe, config, CompileOptions(code="."), catalog.get)
    (step,) = job.jobs.values()
    assert len(step.display_name) == 256 and step.display_name.endswith("...")
    assert step.tags["kedro_nodes"] == name  # the full name is kept
    with pytest.raises(CompileError, match="has 300 characters; Azure ML takes at most 256"):
        compile_pipeline(pipe, config, CompileOptions(code=".", display_name=name), catalog.get)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("jobs: [unclosed\n", "is not valid YAML"),
        ("- a\n- b\n", "holds list, not an Azure ML pipeline job"),
        ("", "holds nothing, not an Azure ML pipeline job"),
    ],
    ids=["invalid", "list", "empty"],
)
def test_a_from_yaml_file_that_is_no_job_is_a_message(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "job.yaml"
    path.write_text(text)
    with pytest.raises(KedroAzureMLError, match=expected) as error:
        read_job_yaml(path)
    assert str(path) in str(error.value)
    assert "kedro azureml compile" in str(error.value)


@pytest.mark.parametrize("name", ["../../escape", "data/proc", "..", "/abs", "a b\n"], ids=repr)
def test_the_run_folder_stays_in_the_runs_folder_whatever_the_pipeline_name(
    tmp_path: Path, name: str
) -> None:
    run_dir = new_run_dir(tmp_path, name)
    assert run_dir.parent == (tmp_path / RUNS_DIR)
    assert run_dir.is_dir()
    assert "/" not in run_dir.name and ".." not in run_dir.name
