"""Azure ML v2 data assets as a job refers to them: pure, so the compiler and the step use them.

How a local run finds and downloads an asset is in :mod:`kedro_azureml.cloud.assets`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kedro.io import DatasetError

ASSET_TYPES = ("uri_folder", "uri_file")
LATEST = "latest"


@dataclass(frozen=True)
class AssetSpec:
    """One data asset as a job refers to it. ``version=None`` means the latest one."""

    name: str
    type: str = "uri_folder"
    version: str | None = None

    def __post_init__(self) -> None:
        if not self.name:
            raise DatasetError("An Azure ML data asset needs a name (azureml_dataset).")
        if self.type not in ASSET_TYPES:
            raise DatasetError(
                f"Data asset '{self.name}': azureml_type must be one of {', '.join(ASSET_TYPES)}, "
                f"got '{self.type}'."
            )

    @property
    def input_path(self) -> str:
        """The path of a job input: ``azureml:<name>:<version>`` (``@latest`` unresolved)."""
        if self.version is None:
            return f"azureml:{self.name}@{LATEST}"
        return f"azureml:{self.name}:{self.version}"


def normalize_version(version: str | int | None) -> str | None:
    """``None``, ``""`` and ``"latest"`` all mean the newest version."""
    if version is None:
        return None
    text = str(version).strip()
    return None if text in ("", LATEST) else text


def asset_spec(config: Mapping[str, Any], load_version: str | None = None) -> AssetSpec:
    """The asset of a raw ``AzureMLAssetDataset`` catalog entry; ``--load-versions`` wins."""
    name = config.get("azureml_dataset")
    if not isinstance(name, str):
        raise DatasetError(f"An AzureMLAssetDataset needs 'azureml_dataset' (a name): {config!r}")
    version = normalize_version(load_version) or normalize_version(config.get("azureml_version"))
    return AssetSpec(name, str(config.get("azureml_type", "uri_folder")), version)
