"""Catch catalog entries Kedro cannot build before a job is compiled, not inside a step.

A wrong dataset ``type`` only fails when the step that loads it runs: on Azure ML that is after
the upload, the queue and the container start. Catalogs written for Kedro 0.18 hit this the
most (``pandas.CSVDataSet``, ``layer:``). The check finds the class the way Kedro does, by
trying its default package prefixes, and builds nothing: no file is opened, no credential read.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from kedro_azureml.errors import ConfigError

# Kedro's own search order for a dataset type.
PACKAGE_PREFIXES = ("kedro.io.", "kedro_datasets.", "")


def _named_in_source(module_name: str, class_name: str) -> bool:
    """Whether the module's own source defines, imports or lazily exports ``class_name``.

    Read, not run: importing ``kedro_datasets.pandas`` imports every pandas dataset and their
    libraries (pandas, SQLAlchemy: ~1 s) only to learn that a name exists. A name not found
    here is not an error: the caller then imports the module, as Kedro would.
    """
    try:
        spec = importlib.util.find_spec(module_name)
    except (ImportError, ValueError):
        return False
    origin = spec.origin if spec is not None else None
    if not origin or not origin.endswith(".py"):
        return False
    try:
        source = Path(origin).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    name = re.escape(class_name)
    binding = rf"(?:\bclass\s+{name}\b|\bimport\s+{name}\b|\bas\s+{name}\b|[\"']{name}[\"'])"
    return re.search(binding, source) is not None


def _class_exists(type_path: str) -> bool:
    for prefix in PACKAGE_PREFIXES:
        module_name, _, class_name = (prefix + type_path).rpartition(".")
        if not module_name:
            continue
        loaded = sys.modules.get(module_name)
        if loaded is not None and class_name in dir(loaded):
            return True
        if loaded is None and _named_in_source(module_name, class_name):
            return True
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        if class_name in dir(module):
            return True
    return False


def _problems(name: str, config: dict[str, Any]) -> list[str]:
    found = []
    dataset_type = config.get("type")
    if isinstance(dataset_type, str) and not _class_exists(dataset_type):
        renamed = dataset_type[: -len("DataSet")] + "Dataset"
        if dataset_type.endswith("DataSet") and _class_exists(renamed):
            found.append(
                f"{name}: type '{dataset_type}' does not exist; since kedro-datasets 2.0 it is "
                f"'{renamed}'."
            )
        else:
            found.append(
                f"{name}: type '{dataset_type}' not found. Is it a typo, or is the package that "
                "provides it (e.g. kedro-datasets[<group>]) not installed?"
            )
    if "layer" in config:
        found.append(
            f"{name}: 'layer' is not a dataset argument since Kedro 0.19; write it as "
            "metadata: {kedro-viz: {layer: ...}}."
        )
    return found


def check_dataset_types(
    names: Iterable[str], dataset_config: Callable[[str], dict[str, Any] | None], env: str
) -> None:
    """Raise one ``ConfigError`` listing every dataset of ``names`` Kedro could not build."""
    problems: list[str] = []
    for name in sorted(set(names)):
        if name.startswith("params:") or name == "parameters":
            continue
        config = dataset_config(name)
        if config:
            problems += _problems(name, config)
    if problems:
        where = "conf/base" if env == "base" else f"conf/base or conf/{env}"
        raise ConfigError(
            f"The catalog ({where}, catalog*.yml) has datasets Kedro cannot build; the steps "
            "would fail on Azure ML:\n  - " + "\n  - ".join(problems)
        )
