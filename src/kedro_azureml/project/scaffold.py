"""``kedro azureml init``: write a commented azureml.yml and a safe .amlignore."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from kedro_azureml.atomic import write_text_atomically
from kedro_azureml.config import CONFIG_FILE, parse_config
from kedro_azureml.errors import ConfigError


@dataclass(frozen=True)
class InitSettings:
    resource_group: str
    workspace_name: str
    experiment_name: str
    cluster_name: str
    subscription_id: str = ""
    storage_account_name: str | None = None
    storage_container: str | None = None
    environment_name: str | None = None
    docker_image: str | None = None
    pipeline_data_passing: bool = False


def _yaml_value(value: str | bool | None) -> str:
    if value is None:
        return "~"
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)  # a JSON string is a valid, safely quoted YAML scalar


def _template(name: str) -> str:
    return resources.files("kedro_azureml").joinpath("templates").joinpath(name).read_text()


def render_config(settings: InitSettings) -> str:
    storage = ""
    if settings.storage_account_name and settings.storage_container:
        storage = (
            "  # Blob container for data that crosses steps, when pipeline data passing is off.\n"
            "  # Steps get a short-lived SAS token for it, never the account key.\n"
            "  temporary_storage:\n"
            f"    account_name: {_yaml_value(settings.storage_account_name)}\n"
            f"    container: {_yaml_value(settings.storage_container)}\n"
        )
    docker_flow = bool(settings.docker_image) and not settings.environment_name
    return _template("azureml.yml.tmpl").format(
        subscription_id=_yaml_value(settings.subscription_id),
        resource_group=_yaml_value(settings.resource_group),
        workspace_name=_yaml_value(settings.workspace_name),
        experiment_name=_yaml_value(settings.experiment_name),
        cluster_name=_yaml_value(settings.cluster_name),
        environment_name=_yaml_value(settings.environment_name),
        code_directory=_yaml_value(None if docker_flow else "."),
        pipeline_data_passing=_yaml_value(settings.pipeline_data_passing or not storage),
        temporary_storage=storage,
        docker_image=_yaml_value(settings.docker_image),
    )


def amlignore_text() -> str:
    return _template("amlignore.tmpl")


def write_init_files(
    project_path: Path, settings: InitSettings, *, force: bool = False
) -> list[Path]:
    """Write conf/base/azureml.yml (validated before writing) and .amlignore."""
    import yaml

    config_path = project_path / "conf" / "base" / CONFIG_FILE
    if config_path.exists() and not force:
        raise ConfigError(f"{config_path} already exists. Use --force to overwrite it.")
    text = render_config(settings)
    parse_config(yaml.safe_load(text), source=str(config_path))
    written = [write_text_atomically(config_path, text)]
    amlignore = project_path / ".amlignore"
    # Never replace rules a user wrote, not even with --force; an empty file uploads everything.
    if not amlignore.exists() or not amlignore.read_text().strip():
        written.append(write_text_atomically(amlignore, amlignore_text()))
    return written
