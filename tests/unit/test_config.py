from __future__ import annotations

import dataclasses

import pytest
import yaml

from kedro_azureml.config import SUBSCRIPTION_ENV, Workspace, parse_config, resolve_subscription
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


# --- the subscription: -s > azure.subscription_id (non-empty) > $AZURE_SUBSCRIPTION_ID ------

S_CLI = "11111111-1111-1111-1111-111111111111"
S_FILE = "22222222-2222-2222-2222-222222222222"
S_ENV = "33333333-3333-3333-3333-333333333333"


@pytest.mark.parametrize(
    ("cli", "in_file", "environment", "expected"),
    [
        (S_CLI, S_FILE, S_ENV, S_CLI),
        (S_CLI, "", None, S_CLI),
        (None, S_FILE, S_ENV, S_FILE),
        ("", S_FILE, S_ENV, S_FILE),
        (None, "", S_ENV, S_ENV),
        (None, "   ", S_ENV, S_ENV),
        (None, S_FILE, None, S_FILE),
        (None, f" {S_FILE} ", "", S_FILE),
    ],
    ids=[
        "s-wins-over-file-and-env",
        "s-alone",
        "file-wins-over-env",
        "empty-s-is-not-given",
        "env-when-file-is-empty",
        "env-when-file-is-blank",
        "file-alone",
        "file-value-stripped",
    ],
)
def test_one_rule_for_the_subscription(
    monkeypatch: pytest.MonkeyPatch,
    cli: str | None,
    in_file: str,
    environment: str | None,
    expected: str,
) -> None:
    if environment is None:
        monkeypatch.delenv(SUBSCRIPTION_ENV, raising=False)
    else:
        monkeypatch.setenv(SUBSCRIPTION_ENV, environment)
    config = parse_config(_with("azure.subscription_id", in_file))

    assert resolve_subscription(cli, in_file) == expected
    assert config.workspace(cli) == Workspace(expected, "rg", "ws")


@pytest.mark.parametrize("environment", [None, "", "  "], ids=["unset", "empty", "blank"])
def test_no_subscription_anywhere_names_the_three_ways(
    monkeypatch: pytest.MonkeyPatch, environment: str | None
) -> None:
    if environment is None:
        monkeypatch.delenv(SUBSCRIPTION_ENV, raising=False)
    else:
        monkeypatch.setenv(SUBSCRIPTION_ENV, environment)
    config = parse_config(_with("azure.subscription_id", ""))

    with pytest.raises(ConfigError) as error:
        config.workspace(None)
    assert str(error.value) == (
        "No Azure subscription given. Pass -s/--subscription-id <id> (kedro azureml run), set "
        "azure.subscription_id in conf/<env>/azureml.yml, or set $AZURE_SUBSCRIPTION_ID."
    )


@pytest.mark.parametrize(
    ("mapping", "environment", "expected"),
    [
        (
            {"subscription_id": "sub", "resource_group": "rg", "workspace_name": "ws"},
            "env",
            Workspace("sub", "rg", "ws"),
        ),
        (
            {"resource_group_name": "rg", "workspace_name": "ws"},
            "env",
            Workspace("env", "rg", "ws"),
        ),
        (
            {"subscription_id": "", "resource_group": "rg", "workspace_name": "ws"},
            "env",
            Workspace("env", "rg", "ws"),
        ),
    ],
    ids=["complete", "sdk-spelling-subscription-from-env", "empty-subscription-from-env"],
)
def test_a_datasets_workspace_follows_the_same_rule(
    monkeypatch: pytest.MonkeyPatch, mapping: dict, environment: str, expected: Workspace
) -> None:
    monkeypatch.setenv(SUBSCRIPTION_ENV, environment)
    assert Workspace.from_mapping(mapping) == expected


def test_the_workspace_is_one_frozen_value() -> None:
    workspace = Workspace("sub", "rg", "ws")
    with pytest.raises(dataclasses.FrozenInstanceError):
        workspace.subscription_id = "other"  # type: ignore[misc]
    assert {workspace, Workspace("sub", "rg", "ws")} == {workspace}  # a cache key
