"""Property: any azureml.yml content gives an AzureMLConfig or a ConfigError, nothing else.

Checked twice: on the parsed mapping (``parse_config``), and through the project loader path
(``load_plugin_config`` with Kedro's own OmegaConfigLoader reading a real conf folder), where
YAML text, OmegaConf interpolations and env overrides come into play.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from kedro_azureml.config import AzureMLConfig, parse_config
from kedro_azureml.errors import ConfigError
from kedro_azureml.project.kedro_project import load_plugin_config
from tests.support.properties import MINIMAL_CONFIG, fuzz

KNOWN_KEYS = [
    "azure",
    "docker",
    "subscription_id",
    "resource_group",
    "workspace_name",
    "experiment_name",
    "compute",
    "__default__",
    "cluster_name",
    "instance_type",
    "instance_count",
    "serverless",
    "temporary_storage",
    "account_name",
    "container",
    "auth",
    "sas_ttl_days",
    "environment_name",
    "code_directory",
    "working_directory",
    "pipeline_data_passing",
    "enabled",
    "grouping",
    "image",
]
# Strings the validators and OmegaConf treat specially.
SPECIAL_STRINGS = [
    "",
    "cpu",
    "env@latest",
    "azureml:env:3",
    "env",
    "namespace",
    "sas",
    "identity",
    "true",
    "1",
    "-1",
    "nan",
    "${oc.env:HOME}",
    "${oc.env:KEDRO_AZUREML_SURELY_UNSET}",
    "${azure.workspace_name}",
    "${",
    "${globals:x}",
    "\udcff",  # a byte that is not UTF-8, as a surrogate escape
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**400),
    st.floats(),
    st.text(max_size=20),
    st.sampled_from(SPECIAL_STRINGS),
    st.dates(),
    st.datetimes(),
    st.binary(max_size=4),
)
keys = st.one_of(
    st.sampled_from(KNOWN_KEYS), st.text(max_size=8), st.integers(), st.booleans(), st.none()
)
anything = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=20,
)


def _maybe(fields: dict[Any, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[Any, Any]]:
    """A mapping holding any subset of ``fields``."""
    return st.fixed_dictionaries({}, optional=fields)


compute_entry = st.one_of(
    anything,
    _maybe(
        {
            "cluster_name": anything,
            "instance_type": anything,
            "instance_count": anything,
            "serverless": anything,
            "cluster": anything,
        }
    ),
)
azure_section = _maybe(
    {
        "subscription_id": anything,
        "resource_group": anything,
        "workspace_name": anything,
        "experiment_name": anything,
        "compute": st.one_of(
            anything,
            st.dictionaries(st.sampled_from(["__default__", "gpu", 1]), compute_entry, max_size=2),
        ),
        "temporary_storage": st.one_of(
            anything,
            _maybe(
                {
                    "account_name": anything,
                    "container": anything,
                    "auth": anything,
                    "sas_ttl_days": anything,
                }
            ),
        ),
        "environment_name": anything,
        "code_directory": anything,
        "working_directory": anything,
        "pipeline_data_passing": st.one_of(anything, _maybe({"enabled": anything})),
        "grouping": anything,
        "image": anything,  # misplaced: belongs under docker
    }
)
# Shaped like azureml.yml, so the validators deep inside are reached, not only the top level.
config_shaped = _maybe(
    {
        "azure": st.one_of(anything, azure_section),
        "docker": st.one_of(anything, _maybe({"image": anything})),
        "code_directory": anything,
        1: anything,
    }
)
mappings = st.one_of(config_shaped, st.dictionaries(keys, anything, max_size=4))

VALID = MINIMAL_CONFIG


@fuzz(200)
@given(mappings)
def test_any_mapping_gives_a_config_or_a_config_error(data: dict[Any, Any]) -> None:
    try:
        config = parse_config(data)
    except ConfigError as error:
        assert str(error).startswith(("Invalid azureml.yml", "azureml.yml is empty"))
    else:
        assert isinstance(config, AzureMLConfig)


def _loader(conf: Path) -> Any:
    from kedro.config import OmegaConfigLoader

    return OmegaConfigLoader(conf_source=str(conf), base_env="base", default_run_env="local")


def _yaml_text(data: Any) -> str | None:
    try:
        return yaml.safe_dump(data, allow_unicode=True)
    except (yaml.YAMLError, UnicodeEncodeError):
        return None


yaml_documents = st.one_of(
    mappings.map(_yaml_text),
    anything.map(_yaml_text),  # a list, a scalar, nothing
    st.text(max_size=60),  # not even YAML
    st.sampled_from(["", "azure:\n  compute: [", "- a\n- b\n", "azure: !!python/name:os.system\n"]),
)


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    for env in ("base", "local"):
        (tmp_path / "conf" / env).mkdir(parents=True)
    return tmp_path / "conf"


@pytest.mark.filterwarnings("ignore::UserWarning")
@fuzz(120)
@given(
    base=yaml_documents,
    override=st.one_of(st.none(), st.just(yaml.safe_dump(VALID)), yaml_documents),
)
def test_any_conf_files_give_a_config_or_a_config_error(
    conf: Path, base: str | None, override: str | None
) -> None:
    """Through Kedro's loader: base file, an env file overriding it, interpolations."""
    (conf / "base" / "azureml.yml").write_text(base or "", encoding="utf-8")
    local = conf / "local" / "azureml.yml"
    local.unlink(missing_ok=True)
    if override is not None:
        local.write_text(override, encoding="utf-8")
    try:
        config = load_plugin_config(_loader(conf), "local", conf)
    except ConfigError as error:
        assert str(error)
    else:
        assert isinstance(config, AzureMLConfig)
