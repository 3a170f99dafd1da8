"""Opens the user's Kedro project once and hands out what the other layers need.

Everything Kedro-session-shaped lives here so the compiler stays a pure function of plain
values (pipeline, dataset configs, parameters, plugin config).
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Iterable, Iterator
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
DEFAULT_RUN_ENV = "local"  # Kedro's: this machine's settings, never uploaded


@dataclass
class KedroProject:
    """The pieces of an opened Kedro project that compiling and running need."""

    path: Path
    env: str
    package_name: str  # names the project in schedule names and tags
    params: dict[str, Any]
    config: AzureMLConfig
    _catalog: Any = field(repr=False)
    _conf_source: Path = field(repr=False)
    # A named job's (or the command line's) filtered pipeline, by registered name: what
    # every command then compiles, checks and submits (commands/jobs.py).
    selected_pipelines: dict[str, Any] = field(default_factory=dict, repr=False)
    base_env: str = "base"
    env_origin: str = "-e"  # where ``env`` came from: -e, $KEDRO_ENV or the base environment
    # ``{label: value}`` of the secrets in the project's credentials (see credential_secrets).
    credential_secrets: dict[str, str] = field(default_factory=dict, repr=False)

    def pipeline(self, name: str) -> Pipeline:
        if name in self.selected_pipelines:
            return self.selected_pipelines[name]
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
    base_env = str(getattr(config_loader, "base_env", "") or "base")
    files = PluginConfigFiles.find(
        conf_source, dict.fromkeys((base_env, env)), config_loader.config_patterns["azureml"]
    )
    files.check_each_is_a_mapping()
    try:
        with _environment_variables_resolvable():
            raw = config_loader["azureml"]
    except Exception as exc:  # Kedro raises MissingConfigException for no matching file.
        if type(exc).__name__ != "MissingConfigException":
            raise ConfigError(f"Could not read {files.describe()}: {exc}") from exc
        raw = {}
    if not raw:
        if files.paths:
            raise ConfigError(
                f"{files.describe()} is empty. Fill it in from the commented template: run "
                "`kedro azureml init ... --force` to write conf/base/azureml.yml again."
            )
        raise ConfigError(
            f"No {CONFIG_FILE} found in {conf_source / base_env} or {conf_source / env}. "
            "Run `kedro azureml init` to create one."
        )
    return parse_config(raw, source=files.describe(), locate=files.holding)


@dataclass
class PluginConfigFiles:
    """The azureml config files Kedro merges, read on their own to say which holds a key."""

    root: Path  # the project folder: paths are shown relative to it
    paths: list[Path]
    contents: list[Any] = field(default_factory=list)

    @classmethod
    def find(cls, conf_source: Path, envs: Iterable[str], patterns: list[str]) -> PluginConfigFiles:
        import yaml

        paths: list[Path] = []
        for env in envs:
            folder = conf_source / env
            found = {
                path
                for pattern in patterns
                for path in (folder.glob(pattern) if folder.is_dir() else ())
                if path.is_file()
                and path.suffix in (".yml", ".yaml", ".json")
                and not any(part.startswith(".") for part in path.relative_to(folder).parts)
            }
            paths += sorted(found)
        contents = []
        for path in paths:
            try:
                contents.append(yaml.safe_load(path.read_text()))
            except (yaml.YAMLError, OSError, UnicodeDecodeError):
                contents.append(None)  # Kedro's loader reports what is wrong with it
        return cls(conf_source.parent, paths, contents)

    def shown(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def describe(self) -> str:
        return " + ".join(self.shown(path) for path in self.paths) or CONFIG_FILE

    def check_each_is_a_mapping(self) -> None:
        for path, content in zip(self.paths, self.contents, strict=True):
            if content is not None and not isinstance(content, dict):
                raise ConfigError(
                    f"{self.shown(path)} holds a {type(content).__name__}, not a mapping: "
                    f"{CONFIG_FILE} is a mapping with an `azure:` section (and optionally "
                    "`docker:`), as written by `kedro azureml init`."
                )

    def holding(self, location: tuple[int | str, ...]) -> str | None:
        """The file that sets the key at ``location``: the env's, which wins, before base."""
        for path, content in reversed(list(zip(self.paths, self.contents, strict=True))):
            node = content
            for part in location:
                if not isinstance(node, dict) or part not in node:
                    break
                node = node[part]
            else:
                if location:
                    return self.shown(path)
        return None


def config_environment(env: str | None) -> tuple[str, str]:
    """The Kedro env whose config decides the job, and where that choice came from.

    ``-e``, else ``$KEDRO_ENV`` (as ``kedro run`` does), else the base env. Never Kedro's
    default run env (``local``): it holds this machine's settings and is not uploaded, so
    compiling with it would bake values into the job that no step could ever read back.
    Every step is given this same env with ``--env``. Needs the project's settings, i.e. a
    bootstrapped project.
    """
    from kedro.framework.project import settings

    if env:
        return env, "-e"
    if os.environ.get("KEDRO_ENV"):
        return os.environ["KEDRO_ENV"], "from $KEDRO_ENV"
    base_env = dict(settings.CONFIG_LOADER_ARGS or {}).get("base_env") or "base"
    return str(base_env), f"default: the base env, not {DEFAULT_RUN_ENV!r}"


def check_environment_exists(conf_source: Path, env: str) -> None:
    """Kedro reads a missing env folder as "no config at all": say what is really wrong."""
    if not conf_source.is_dir() or (conf_source / env).is_dir():
        return  # a packaged or remote conf source: Kedro itself reports what it cannot read
    known = sorted(
        p.name for p in conf_source.iterdir() if p.is_dir() and not p.name.startswith(".")
    )
    raise ConfigError(
        f"Kedro environment '{env}' does not exist: there is no folder {conf_source / env}. "
        f"Environments of this project: {', '.join(known) or 'none'}. "
        f"Create {conf_source.name}/{env}/ or pick one of these with -e."
    )


def _interpolations(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _interpolations(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _interpolations(item, f"{path}[{index}]")
    elif isinstance(value, str) and "${" in value:
        yield path, value


def _unresolvable_override(exc: Exception, overrides: dict[str, Any] | None) -> Exception | None:
    """An OmegaConf error caused by a ``${...}`` in --params, as a message saying so.

    Kedro resolves overrides like any parameter (``kedro run --params`` does the same, and
    fails with a traceback), so ``${globals:...}`` works; anything else cannot be resolved.
    """
    from omegaconf.errors import OmegaConfBaseException

    found = list(_interpolations(overrides or {}))
    if not found or not isinstance(exc, OmegaConfBaseException):
        return None
    listed = ", ".join(f"{key}={value!r}" for key, value in found[:5])
    problem = str(exc).splitlines()[0]
    return ConfigError(
        f"--params {listed}: Kedro reads ${{...}} in parameter overrides as an interpolation, "
        f"as `kedro run --params` does, and this one cannot be resolved ({problem}). To pass "
        "the text as it is, escape it as \\${...}; or use a resolver Kedro knows for "
        "parameters, such as ${globals:...}."
    )


@contextmanager
def _parameters_without_dataframe_imports() -> Iterator[None]:
    """Let Kedro add the parameters to the catalog without importing pandas first.

    Kedro wraps each parameter in a MemoryDataset, whose copy mode it infers by importing
    pandas, numpy and ibis only to ask whether the value is one of their DataFrames: about a
    second when the project's pipelines have not imported them, for a CLI that never loads
    data. While none of the three is imported, no value can be one of their types, so the
    answer is the one Kedro's function gives without them; once one is, Kedro's own runs.
    """
    from kedro.io import memory_dataset

    infer = getattr(memory_dataset, "_infer_copy_mode", None)
    if infer is None:  # another Kedro: leave it alone
        yield
        return

    def without_imports(data: Any) -> Any:
        if any(name in sys.modules for name in ("pandas", "numpy", "ibis")):
            return infer(data)
        return "assign" if type(data).__name__ == "DataFrame" else "deepcopy"

    memory_dataset._infer_copy_mode = without_imports
    try:
        yield
    finally:
        memory_dataset._infer_copy_mode = infer


# A credentials entry whose key has one of these words (or ends like one) is a secret; a
# host, a user or a container name is not.
_SECRET_WORDS = frozenset(
    {"password", "passwd", "pass", "pwd", "secret", "token", "key", "sas", "sig", "signature"}
    | {"credential", "credentials", "con", "conn", "connection", "auth"}
)
_SECRET_ENDINGS = ("key", "secret", "token", "password", "pwd")


def _names_a_secret(key: str) -> bool:
    lowered = key.lower()
    words = set(re.split(r"[^a-z0-9]+", lowered))
    return bool(words & _SECRET_WORDS) or lowered.endswith(_SECRET_ENDINGS)


def credential_secrets(config_loader: Any, conf_source: Path) -> dict[str, str]:
    """``{label: value}`` of the secrets in the project's credentials (``credentials*.yml``).

    Kedro keeps a project's secrets there, out of the code upload: in the env compiled with,
    and in ``local`` (``kedro run``'s), where most projects keep them. None may reach a job's
    YAML or a step's environment, so they join the secrets this machine knows.
    """
    from kedro.framework.project import settings

    loaders = [config_loader]
    if getattr(config_loader, "env", None) != DEFAULT_RUN_ENV:
        arguments = dict(settings.CONFIG_LOADER_ARGS or {})
        with suppress(Exception):  # another loader class, or no such env: only the first
            loaders.append(
                settings.CONFIG_LOADER_CLASS(
                    conf_source=str(conf_source), env=DEFAULT_RUN_ENV, **arguments
                )
            )
    found: dict[str, str] = {}
    for loader in loaders:
        found.update(_secret_entries(loader))
    return found


def _secret_entries(config_loader: Any) -> dict[str, str]:
    try:
        credentials = config_loader["credentials"]
    except Exception:  # no credentials file: Kedro reports a broken one where it is used
        return {}
    found: dict[str, str] = {}
    stack: list[tuple[str, Any]] = [("", credentials)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            stack += [(f"{path}.{key}" if path else str(key), item) for key, item in value.items()]
        elif isinstance(value, str) and _names_a_secret(path.rpartition(".")[2]):
            found[f"The value of credentials entry {path}"] = value
    return found


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
    """Bootstrap the project and load its context, config and catalog exactly once.

    The session is opened with the env the steps will run with (see ``config_environment``),
    so every compile-time value (parameters, catalog, azureml.yml) is the one the steps see.
    """
    from kedro.framework.project import settings
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    metadata = bootstrap_project(path)
    env, env_origin = config_environment(env)
    check_environment_exists(path / settings.CONF_SOURCE, env)
    session = KedroSession.create(
        project_path=path, env=env, runtime_params=runtime_params or None, save_on_close=False
    )
    _leave_tracking_to_the_steps(session)
    try:
        context = session.load_context()
        params = context.params
    except Exception as exc:
        override_error = _unresolvable_override(exc, runtime_params)
        if override_error is None:
            raise
        raise override_error from None
    conf_source = Path(context.config_loader.conf_source)
    config = load_plugin_config(context.config_loader, env, conf_source)
    with _parameters_without_dataframe_imports():
        catalog = context.catalog
    return KedroProject(
        path=path,
        env=env,
        env_origin=env_origin,
        base_env=str(getattr(context.config_loader, "base_env", "") or "base"),
        package_name=metadata.package_name,
        params=params,
        config=config,
        credential_secrets=credential_secrets(context.config_loader, conf_source),
        _catalog=catalog,
        _conf_source=conf_source,
    )
