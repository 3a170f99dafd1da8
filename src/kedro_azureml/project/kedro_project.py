"""Opens the user's Kedro project once and hands out what the other layers need.

Everything Kedro-session-shaped lives here so the compiler stays a pure function of plain
values (pipeline, dataset configs, parameters, plugin config).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kedro_azureml.config import CONFIG_FILE, AzureMLConfig, parse_config
from kedro_azureml.contract.routing import dataset_path, resolve_dataset_config
from kedro_azureml.errors import ConfigError

if TYPE_CHECKING:
    from kedro.pipeline import Pipeline

logger = logging.getLogger(__name__)

CONFIG_PATTERNS = ["azureml*", "azureml*/**", "**/azureml*"]


@dataclass
class KedroProject:
    """The pieces of an opened Kedro project that compiling and running need."""

    path: Path
    env: str
    params: dict[str, Any]
    config: AzureMLConfig
    _catalog: Any = field(repr=False)
    _conf_source: Path = field(repr=False)

    def pipeline(self, name: str) -> Pipeline:
        from kedro.framework.project import pipelines

        if name not in pipelines:
            known = ", ".join(sorted(pipelines)) or "none"
            raise ConfigError(f"Pipeline '{name}' is not registered. Known pipelines: {known}.")
        return pipelines[name]

    def dataset_config(self, name: str) -> dict[str, Any] | None:
        config = resolve_dataset_config(self._catalog, name)
        # Kedro makes local paths absolute; show them as the user wrote them, project-relative.
        located = dataset_path(config) if config else None
        if config and located and Path(located[1]).is_absolute():
            with suppress(ValueError):
                config[located[0]] = Path(located[1]).relative_to(self.path).as_posix()
        return config

    @property
    def env_conf_dir(self) -> Path:
        return self._conf_source / self.env


@contextmanager
def _environment_variables_resolvable() -> Iterator[None]:
    """Let azureml.yml use ${oc.env:...}: Kedro enables it only for credentials."""
    from omegaconf import OmegaConf
    from omegaconf.resolvers import oc

    if OmegaConf.has_resolver("oc.env"):
        yield
        return
    register = getattr(OmegaConf, "register_resolver", None) or OmegaConf.register_new_resolver
    register("oc.env", oc.env)
    try:
        yield
    finally:
        OmegaConf.clear_resolver("oc.env")


def load_plugin_config(config_loader: Any, env: str, conf_source: Path) -> AzureMLConfig:
    if "azureml" not in config_loader.config_patterns:
        config_loader.config_patterns["azureml"] = CONFIG_PATTERNS
    # An env file overrides single keys of base (e.g. only the cluster), unless the project
    # chose a strategy for azureml itself.
    merge_strategy = getattr(config_loader, "merge_strategy", None)
    if isinstance(merge_strategy, dict):
        merge_strategy.setdefault("azureml", "soft")
    try:
        with _environment_variables_resolvable():
            raw = config_loader["azureml"]
    except Exception as exc:  # Kedro raises MissingConfigException for no matching file.
        if type(exc).__name__ != "MissingConfigException":
            raise ConfigError(f"Could not read {CONFIG_FILE}: {exc}") from exc
        raw = {}
    if not raw:
        raise ConfigError(
            f"No {CONFIG_FILE} found in {conf_source}/base or {conf_source}/{env}. "
            "Run `kedro azureml init` to create one."
        )
    return parse_config(raw, source=f"{conf_source}/(base|{env})/{CONFIG_FILE}")


def _leave_tracking_to_the_steps(session: Any) -> None:
    """Keep kedro-mlflow's hook out of the CLI's session: the CLI only reads the project.

    Its hook would set tracking up in this process: create mlflow.yml's experiment (writing to
    that store), export its credentials and set ``MLFLOW_TRACKING_URI``, which ``run --local``
    would then take for the user's store and hand to every step. The steps run kedro-mlflow.
    """
    from kedro_azureml.contract.kedro_mlflow import kedro_mlflow_hooks

    manager = session._hook_manager
    for plugin in kedro_mlflow_hooks(manager):
        manager.unregister(plugin)


def open_project(
    path: Path, env: str | None = None, runtime_params: dict[str, Any] | None = None
) -> KedroProject:
    """Bootstrap the project and load its context, config and catalog exactly once."""
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    bootstrap_project(path)
    session = KedroSession.create(
        project_path=path, env=env, runtime_params=runtime_params or None, save_on_close=False
    )
    _leave_tracking_to_the_steps(session)
    context = session.load_context()
    loader: Any = context.config_loader
    conf_source = Path(context.config_loader.conf_source)
    resolved_env = context.env or loader.default_run_env or "local"
    config = load_plugin_config(context.config_loader, resolved_env, conf_source)
    catalog = context.catalog
    return KedroProject(
        path=path,
        env=env or loader.base_env or "base",
        params=context.params,
        config=config,
        _catalog=catalog,
        _conf_source=conf_source,
    )
