"""The schema of ``conf/<env>/azureml.yml``.

Every model forbids unknown keys: a typo in a YAML file should stop the user at compile time,
not silently fall back to a default and surface an hour later on a cluster.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from kedro_azureml.config_jobs import KEY_SYNONYMS, JobConfig, ScheduleConfig, check_jobs
from kedro_azureml.contract.grouping_strategies import DEFAULT_GROUPING, GroupingStrategy
from kedro_azureml.errors import ConfigError

CONFIG_FILE = "azureml.yml"
DEFAULT_COMPUTE = "__default__"
# kedro-docker's image keeps the project in this folder; the docker flow `cd`s into it.
DEFAULT_WORKING_DIRECTORY = "/home/kedro_docker"

SUBSCRIPTION_ENV = "AZURE_SUBSCRIPTION_ID"
NO_SUBSCRIPTION = (
    "No Azure subscription given. Pass -s/--subscription-id <id> (kedro azureml run), set "
    "azure.subscription_id in conf/<env>/azureml.yml, or set $AZURE_SUBSCRIPTION_ID."
)

_ENV_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*(@latest|:[A-Za-z0-9_.\-]+)")
# Azure ML's naming rules, checked at compile so a bad name fails here, not at submission:
# experiments (and so MLflow experiments) take up to 256 letters, digits, '_' and '-',
# starting with a letter or digit; a run's display name up to 256 characters; compute names
# 2-24 letters, digits and '-', starting with a letter and ending with a letter or digit
# (clusters allow 16, compute instances 24). Sources: "Service limits in Azure Machine
# Learning" and "Naming rules and restrictions for Azure resources" (Microsoft Learn).
EXPERIMENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-]{0,255}")
EXPERIMENT_RULE = (
    "1-256 letters, digits, '_' and '-', starting with a letter or digit (Azure ML's rule)"
)
COMPUTE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9\-]{0,22}[A-Za-z0-9]")
COMPUTE_RULE = (
    "2-24 letters, digits and '-', starting with a letter and ending with a letter or digit "
    "(Azure ML's rule for compute names)"
)
DISPLAY_NAME_MAX = 256
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def is_environment_reference(value: str) -> bool:
    """``name@latest`` or ``name:version``, optionally ``azureml:``-prefixed."""
    return bool(_ENV_NAME.fullmatch(value.removeprefix("azureml:")))


def _shown(value: str) -> str:
    """A user's value in a message: quoted, and cut short when it is huge."""
    return repr(value) if len(value) <= 80 else f"{value[:60]!r}... ({len(value)} characters)"


def experiment_name_problem(value: str) -> str | None:
    if EXPERIMENT_NAME.fullmatch(value):
        return None
    return f"{_shown(value)} is not a valid experiment name: use {EXPERIMENT_RULE}"


def compute_name_problem(value: str) -> str | None:
    if COMPUTE_NAME.fullmatch(value):
        return None
    return f"{_shown(value)} is not a valid compute name: use {COMPUTE_RULE}"


def check_init_names(experiment: str, cluster: str) -> list[tuple[str, str]]:
    """Problems with ``init``'s name arguments, as (argument, message) pairs."""
    problems = [
        ("EXPERIMENT_NAME", experiment_name_problem(experiment)),
        ("CLUSTER_NAME", compute_name_problem(cluster)),
    ]
    return [(argument, problem) for argument, problem in problems if problem]


def resolve_subscription(
    cli_value: str | None, config_value: str | None, environ: Mapping[str, str] | None = None
) -> str:
    """The Azure subscription to use, by the one rule every command and dataset follows:

    ``-s/--subscription-id`` > ``azure.subscription_id`` in azureml.yml (when non-empty) >
    ``$AZURE_SUBSCRIPTION_ID``. The explicit choice for this command wins over the project's
    file, and the file (committed with the project) wins over whatever the shell happens to
    export. Raises :class:`ConfigError` naming the three ways when none is set.
    """
    environ = os.environ if environ is None else environ
    for value in (cli_value, config_value, environ.get(SUBSCRIPTION_ENV)):
        if value and value.strip():
            return value.strip()
    raise ConfigError(NO_SUBSCRIPTION)


@dataclass(frozen=True)
class Workspace:
    """Where an Azure ML workspace lives: the three names ``MLClient`` needs.

    The one workspace type of the plugin: submit, ``run --local``'s asset downloads and the
    datasets all use it. Get it from :meth:`AzureMLConfig.workspace` or :meth:`from_mapping`,
    which apply :func:`resolve_subscription`.
    """

    subscription_id: str
    resource_group: str
    workspace_name: str

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Workspace:
        """Read ``subscription_id``, ``resource_group`` and ``workspace_name`` (a dataset's
        ``workspace:`` argument). ``resource_group_name`` is accepted for ``resource_group``, as
        ``MLClient`` spells it. ``subscription_id`` may be left out: then the rule of
        :func:`resolve_subscription` applies, with this mapping in the place of azureml.yml.
        """
        values = dict(data)
        if "resource_group" not in values and "resource_group_name" in values:
            values["resource_group"] = values.pop("resource_group_name")
        names = ("subscription_id", "resource_group", "workspace_name")
        missing = [key for key in names[1:] if not values.get(key)]
        unknown = sorted(set(values) - set(names))
        if missing or unknown:
            raise ConfigError(
                "An Azure ML workspace needs resource_group and workspace_name, and may have "
                f"subscription_id (missing: {missing or 'none'}, unknown: {unknown or 'none'})."
            )
        subscription = resolve_subscription(None, str(values.get("subscription_id") or ""))
        return cls(subscription, str(values["resource_group"]), str(values["workspace_name"]))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class ComputeConfig(_Model):
    """One compute alias: a node tagged with the alias runs there."""

    cluster_name: str | None = Field(
        default=None, description="Name of an Azure ML compute cluster in the workspace."
    )
    instance_type: str | None = Field(
        default=None, description="VM size, e.g. Standard_DS3_v2 (serverless, or a cluster type)."
    )
    instance_count: int | None = Field(
        default=None, ge=1, description="Machines per step on this compute."
    )
    serverless: bool = Field(
        default=False, description="Run on Azure ML serverless compute instead of a cluster."
    )

    @field_validator("cluster_name")
    @classmethod
    def _cluster_name(cls, value: str | None) -> str | None:
        problem = compute_name_problem(value) if value else None
        if problem:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _cluster_or_serverless(self) -> ComputeConfig:
        if self.serverless and self.cluster_name:
            raise ValueError("give either cluster_name or serverless: true, not both")
        if not self.serverless and not self.cluster_name:
            raise ValueError("cluster_name is required unless serverless: true")
        if self.serverless and not self.instance_type:
            raise ValueError("serverless compute needs instance_type (e.g. Standard_DS3_v2)")
        return self


class TemporaryStorageConfig(_Model):
    """Blob container that carries intermediate data between steps (the seed's mode)."""

    account_name: str = Field(description="Azure Storage account name.")
    container: str = Field(description="Blob container for temporary data.")
    auth: Literal["sas", "identity"] = Field(
        default="sas",
        description="How steps reach the container: a SAS token made at submit time, "
        "or the compute's managed identity.",
    )
    sas_ttl_days: float = Field(
        default=7, gt=0, description="Lifetime of the SAS token given to the steps."
    )


class PipelineDataPassingConfig(_Model):
    enabled: bool = Field(
        default=False,
        description="Pass intermediate data through Azure ML job outputs (no storage key).",
    )


class AzureConfig(_Model):
    subscription_id: str = Field(
        default="",
        description="Azure subscription; may be left empty. -s/--subscription-id wins over "
        "it, and $AZURE_SUBSCRIPTION_ID is used when both are empty.",
    )
    resource_group: str = Field(description="Resource group of the Azure ML workspace.")
    workspace_name: str = Field(description="Azure ML workspace name.")
    experiment_name: str = Field(description="Azure ML experiment the jobs are filed under.")
    compute: dict[str, ComputeConfig] = Field(
        description="Compute aliases; __default__ is required, other aliases match node tags."
    )
    temporary_storage: TemporaryStorageConfig | None = Field(
        default=None, description="Blob container for intermediate data (mode B)."
    )
    environment_name: str | None = Field(
        default=None,
        description="Registered Azure ML environment, as name@latest or name:version.",
    )
    code_directory: str | None = Field(
        default=".",
        description="Folder uploaded as the job's code; null for the docker image flow.",
    )
    working_directory: str = Field(
        default=DEFAULT_WORKING_DIRECTORY,
        description="Where the project lives inside the docker image (docker image flow).",
    )
    pipeline_data_passing: PipelineDataPassingConfig = Field(
        default_factory=PipelineDataPassingConfig,
        description="Azure ML pipeline data passing (mode A).",
    )
    grouping: GroupingStrategy = Field(
        # Fewest container starts on the longest chain of steps, then fewest steps; a
        # pipeline with namespaces keeps Kedro's own namespace grouping.
        default=DEFAULT_GROUPING,
        description="How nodes are grouped into Azure ML steps.",
    )

    @field_validator("compute")
    @classmethod
    def _has_default(cls, value: dict[str, ComputeConfig]) -> dict[str, ComputeConfig]:
        if DEFAULT_COMPUTE not in value:
            raise ValueError(f"a '{DEFAULT_COMPUTE}' entry is required")
        return value

    @field_validator("experiment_name")
    @classmethod
    def _experiment_name(cls, value: str) -> str:
        problem = experiment_name_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("subscription_id")
    @classmethod
    def _subscription_guid(cls, value: str) -> str:
        if value.strip() and not _GUID.fullmatch(value.strip()):
            raise ValueError(
                f"{_shown(value)} is not an Azure subscription ID, which is a GUID (see "
                "`az account show --query id`); or leave it empty and use -s or "
                "$AZURE_SUBSCRIPTION_ID"
            )
        return value.strip()

    @field_validator("environment_name")
    @classmethod
    def _env_syntax(cls, value: str | None) -> str | None:
        if value and not is_environment_reference(value):
            raise ValueError(
                f"'{value}' is not a valid environment reference: use name@latest or name:version"
            )
        return value


class DockerConfig(_Model):
    image: str | None = Field(
        default=None, description="Image the steps run in (docker image flow)."
    )


class AzureMLConfig(_Model):
    """The whole azureml.yml."""

    azure: AzureConfig
    docker: DockerConfig = Field(default_factory=DockerConfig)
    # Named production jobs and their schedules (config_jobs.py).
    jobs: dict[str, JobConfig] = Field(
        default_factory=dict, description="Named jobs: kedro azureml compile|run|schedule -j NAME."
    )
    schedules: dict[str, ScheduleConfig] = Field(
        default_factory=dict, description="Named schedules a job's `schedule` may refer to."
    )

    @model_validator(mode="after")
    def _has_environment(self) -> AzureMLConfig:
        if not self.azure.environment_name and not self.docker.image:
            raise ValueError(
                "set azure.environment_name (code upload flow) or docker.image (docker image flow)"
            )
        return self

    @model_validator(mode="after")
    def _jobs_fit(self) -> AzureMLConfig:
        problems = check_jobs(self.jobs, self.schedules, set(self.azure.compute))
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def workspace(self, subscription_id: str | None = None) -> Workspace:
        """The workspace of this config; ``subscription_id`` is ``-s`` (see
        :func:`resolve_subscription` for the rule)."""
        return Workspace(
            resolve_subscription(subscription_id, self.azure.subscription_id),
            self.azure.resource_group,
            self.azure.workspace_name,
        )

    @property
    def uses_temporary_storage(self) -> bool:
        return not self.azure.pipeline_data_passing.enabled and bool(self.azure.temporary_storage)


# Where each known key lives, so a misplaced key can be answered with its right place.
def _known_key_paths(model: type[BaseModel], prefix: str = "") -> dict[str, list[str]]:
    paths: dict[str, list[str]] = {}
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        paths.setdefault(name, []).append(path)
        # A map of named entries (jobs, compute aliases): its entries' keys sit one level down.
        entries = ".<name>" if getattr(field.annotation, "__origin__", None) is dict else ""
        for arg in _model_args(field.annotation):
            for key, sub in _known_key_paths(arg, f"{path}{entries}.").items():
                paths.setdefault(key, []).extend(sub)
    return paths


def _model_args(annotation: Any) -> list[type[BaseModel]]:
    # get_origin first: on Python 3.10 dict[str, X] is an instance of type, and issubclass fails.
    if (
        get_origin(annotation) is None
        and isinstance(annotation, type)
        and issubclass(annotation, BaseModel)
    ):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in getattr(annotation, "__args__", ()) or ():
        found.extend(_model_args(arg))
    return found


def _format_location(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc)


def _hint(error: Any, known: dict[str, list[str]]) -> str:
    key = str(error["loc"][-1]) if error["loc"] else ""
    if error["type"] == "extra_forbidden":
        if key in known:
            return f"did you mean {' or '.join(known[key])}?"
        if key in KEY_SYNONYMS:
            return f"did you mean {KEY_SYNONYMS[key]}?"
        close = [k for k in known if k.lower().replace("-", "_") == key.lower().replace("-", "_")]
        if close:
            return f"did you mean {known[close[0]][0]}?"
        return "remove it; see the commented template written by `kedro azureml init`"
    if error["type"] == "missing":
        return "add it"
    return ""


def parse_config(
    data: Any,
    source: str = CONFIG_FILE,
    locate: Callable[[tuple[int | str, ...]], str | None] | None = None,
) -> AzureMLConfig:
    """Validate raw azureml.yml content, turning pydantic's report into one readable error.

    ``locate`` names the file that holds a key, so each problem points at the file to edit.
    """
    if not isinstance(data, dict) or not data:
        raise ConfigError(
            f"{source} is empty or not a mapping. Run `kedro azureml init` to create it."
        )
    try:
        return AzureMLConfig.model_validate(data)
    except ValidationError as exc:
        known = _known_key_paths(AzureMLConfig)
        lines = []
        for error in exc.errors():
            location = _format_location(error["loc"]) or "(top level)"
            where = locate(tuple(error["loc"])) if locate else None
            message = error["msg"].removeprefix("Value error, ")
            hint = _hint(error, known)
            lines.append(
                f"  - {where + ': ' if where else ''}{location}: {message}"
                + (f" ({hint})" if hint else "")
            )
        raise ConfigError(f"Invalid {source}:\n" + "\n".join(lines)) from None
