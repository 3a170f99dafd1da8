from __future__ import annotations

import pytest
import yaml

from kedro_azureml.config import parse_config
from kedro_azureml.errors import ConfigError
from kedro_azureml.project.scaffold import InitSettings, render_config

VALID = {
    "azure": {
        "subscription_id": "00000000-0000-0000-0000-000000000000",
        "resource_group": "rg",
        "workspace_name": "ws",
        "experiment_name": "exp",
        "compute": {"__default__": {"cluster_name": "cpu"}},
        "environment_name": "kedro-env@latest",
    }
}


def _with(path: str, value: object) -> dict:
    data = yaml.safe_load(yaml.safe_dump(VALID))
    *parents, leaf = path.split(".")
    node = data
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value
    return data


def test_valid_config_has_defaults() -> None:
    config = parse_config(VALID)
    assert config.azure.code_directory == "."
    assert config.azure.working_directory == "/home/kedro_docker"
    assert config.azure.pipeline_data_passing.enabled is False
    assert config.docker.image is None
    assert config.azure.compute["__default__"].cluster_name == "cpu"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(
            _with("azure.compute.__default__.clustr_name", "x"),
            "azure.compute.__default__.clustr_name",
            id="typo-nested",
        ),
        pytest.param(
            _with("code_directory", "."),
            "did you mean azure.code_directory?",
            id="misplaced-top-level",
        ),
        pytest.param(
            _with("azure.image", "img"), "did you mean docker.image?", id="misplaced-image"
        ),
        pytest.param(
            _with("azure.compute", {"gpu": {"cluster_name": "g1"}}),
            "'__default__' entry is required",
            id="no-default-compute",
        ),
        pytest.param(
            _with("azure.environment_name", "kedro-env"),
            "name@latest or name:version",
            id="bad-env-syntax",
        ),
        pytest.param(
            _with("azure.compute.__default__", {"serverless": True}),
            "needs instance_type",
            id="serverless-without-type",
        ),
    ],
)
def test_invalid_config_names_key_and_fix(data: dict, expected: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config(data, source="conf/base/azureml.yml")
    message = str(error.value)
    assert "conf/base/azureml.yml" in message
    assert expected in message


def test_missing_required_key_is_named() -> None:
    data = _with("azure.workspace_name", None)
    del data["azure"]["workspace_name"]
    with pytest.raises(ConfigError, match=r"azure\.workspace_name: Field required \(add it\)"):
        parse_config(data)


def test_environment_or_image_required() -> None:
    data = _with("azure.environment_name", None)
    with pytest.raises(ConfigError, match=r"docker\.image"):
        parse_config(data)


def test_empty_file_says_run_init() -> None:
    with pytest.raises(ConfigError, match="kedro azureml init"):
        parse_config(None)


@pytest.mark.parametrize(
    ("settings", "data_passing", "code_directory"),
    [
        pytest.param(
            InitSettings(
                "rg",
                "ws",
                "exp",
                "cpu",
                storage_account_name="sa",
                storage_container="c",
                environment_name="e@latest",
            ),
            False,
            ".",
            id="quickstart",
        ),
        pytest.param(
            InitSettings("rg", "ws", "exp", "cpu", environment_name="e:3"),
            True,
            ".",
            id="data-passing",
        ),
        pytest.param(
            InitSettings("rg", "ws", "exp", "cpu", docker_image="acr.io/img:1"),
            True,
            None,
            id="docker-flow",
        ),
    ],
)
def test_rendered_template_is_valid_config(
    settings: InitSettings, data_passing: bool, code_directory: str | None
) -> None:
    text = render_config(settings)
    config = parse_config(yaml.safe_load(text))
    assert config.azure.resource_group == "rg"
    assert config.azure.pipeline_data_passing.enabled is data_passing
    assert config.azure.code_directory == code_directory
    assert text.count("#") > 10, "the template is commented for users"
