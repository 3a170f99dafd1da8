"""How each Kedro dataset reaches the steps that need it.

Shared by the compiler (which decides which datasets travel between steps) and the step
executor (which builds the dataset that reads or writes the step's folder), so both sides
always agree from the same catalog entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Any

from kedro_azureml.contract.kedro_mlflow import is_run_dataset

# Keys under which Kedro datasets take their location.
PATH_KEYS = ("filepath", "path")
_PROTOCOL = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*)://")
# Kedro's in-memory datasets (MemoryDataSet: the spelling before Kedro 0.19).
MEMORY_TYPES = ("MemoryDataset", "SharedMemoryDataset", "MemoryDataSet")


class Route(str, Enum):
    PARAMETER = "parameter"
    MEMORY = "memory"  # an in-memory object: serialised into the step's folder
    LOCAL_FILE = "local-file"  # a catalog dataset on a local path: its own format, in the folder
    IN_PLACE = "in-place"  # remote storage or an external system: every step reads it in place
    ASSET = "asset"  # an Azure ML data asset: mounted as a step input, registered as an output
    # A kedro-mlflow dataset: kept in its step's MLflow run; only a reference to it travels.
    MLFLOW_RUN = "mlflow-run"


@dataclass(frozen=True)
class DatasetRoute:
    route: Route
    reason: str  # for people: `compile --explain`, errors
    in_catalog: bool = True  # False for an undeclared dataset (Kedro's default MemoryDataset)

    @property
    def can_travel(self) -> bool:
        return self.route in (Route.MEMORY, Route.LOCAL_FILE)


def is_parameter(name: str) -> bool:
    return name == "parameters" or name.startswith("params:")


def dataset_path(config: dict[str, Any]) -> tuple[str, str] | None:
    for key in PATH_KEYS:
        value = config.get(key)
        if isinstance(value, str):
            return key, value
    return None


def is_remote(path: str) -> bool:
    match = _PROTOCOL.match(path)
    return bool(match) and match.group(1).lower() != "file"  # type: ignore[union-attr]


def resolve_dataset_config(catalog: Any, name: str) -> dict[str, Any] | None:
    """The catalog entry of a dataset, explicit or resolved from a dataset factory."""
    resolver = catalog.config_resolver
    config = resolver.config.get(name)
    if config is not None:
        return dict(config)
    if resolver.match_dataset_pattern(name) or resolver.match_user_catch_all_pattern(name):
        return dict(resolver.resolve_pattern(name)) or None
    if name in catalog:
        # Replaced by an object (e.g. by a hook): its init arguments are its config.
        init_config = getattr(catalog.get(name), "_init_config", None)
        return dict(init_config()) if callable(init_config) else None
    return None  # Kedro's runtime default: an undeclared in-memory dataset


def route_dataset(name: str, config: dict[str, Any] | None) -> DatasetRoute:
    """Decide from a (resolved) catalog entry how a dataset moves between machines."""
    if is_parameter(name):
        return DatasetRoute(Route.PARAMETER, "parameters never travel as data", in_catalog=False)
    if not config:
        return DatasetRoute(Route.MEMORY, "not in the catalog: an in-memory object", False)
    type_name = str(config.get("type", ""))
    short_type = type_name.rsplit(".", 1)[-1]
    if short_type == "AzureMLPipelineDataset":
        inner = config.get("dataset")
        inner_type = inner.get("type") if isinstance(inner, dict) else inner
        return DatasetRoute(
            Route.LOCAL_FILE, f"AzureMLPipelineDataset: travels as {inner_type} in its folder"
        )
    if short_type == "AzureMLAssetDataset":
        return DatasetRoute(
            Route.ASSET,
            f"Azure ML data asset {config.get('azureml_dataset')} "
            f"({config.get('azureml_type', 'uri_folder')})",
        )
    if is_run_dataset(config):
        return DatasetRoute(
            Route.MLFLOW_RUN,
            f"{short_type} (kedro-mlflow): kept in the MLflow run of the step that saves it; "
            "later steps read it from that run",
        )
    if short_type in MEMORY_TYPES:
        return DatasetRoute(Route.MEMORY, f"declared as {type_name}")
    located = dataset_path(config)
    inner = _wrapped(config)
    if inner is not None:  # the wrapped dataset's file is what must travel
        _, path = dataset_path(inner)  # type: ignore[misc]
        if not is_remote(path):
            return DatasetRoute(
                Route.LOCAL_FILE,
                f"{type_name} wrapping local path {path}: travels as {inner.get('type')}",
            )
    if located is None:
        return DatasetRoute(Route.IN_PLACE, f"{type_name} has no file path: read in place")
    _, path = located
    if is_remote(path):
        return DatasetRoute(Route.IN_PLACE, f"remote storage ({path.split('://', 1)[0]}://)")
    return DatasetRoute(Route.LOCAL_FILE, f"local path {path}: travels as {type_name}")


def cannot_travel(config: dict[str, Any] | None) -> bool:
    """A memory dataset with ``copy_mode: assign`` holds an object that must not be copied.

    (e.g. a Spark DataFrame, a connection or a lock): its readers must run in its writer's step.
    """
    if not config:
        return False
    type_name = str(config.get("type", "")).rsplit(".", 1)[-1]
    return type_name in MEMORY_TYPES and config.get("copy_mode") == "assign"


def travelling_config(config: dict[str, Any]) -> dict[str, Any]:
    """The catalog entry a LOCAL_FILE dataset is rebuilt from inside a step's folder.

    A wrapper without a path of its own (CachedDataset) travels as the dataset it wraps: the
    file is what the next step needs, and a cache is only worth having within one process.
    """
    inner = _wrapped(config)
    return dict(inner) if inner is not None else config


def _wrapped(config: dict[str, Any]) -> dict[str, Any] | None:
    """The entry a wrapper with no path of its own (CachedDataset) wraps, if that has a path.

    Not AzureMLPipelineDataset's: it moves its own root_dir into the step's folder.
    """
    if str(config.get("type", "")).endswith("AzureMLPipelineDataset"):
        return None
    inner = config.get("dataset")
    if dataset_path(config) is None and isinstance(inner, dict) and dataset_path(inner):
        return inner
    return None
