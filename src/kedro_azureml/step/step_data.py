"""The datasets a step reads from and writes to its Azure ML input and output folders.

Only data that crosses a step boundary comes here. An in-memory object is serialised in a
format chosen for it; a catalog dataset with a local path keeps its own type and format, so a
CSV stays a CSV that Azure ML Studio can preview.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from pathlib import Path, PurePosixPath
from typing import Any

from kedro.io import AbstractDataset

from kedro_azureml.atomic import write_text_atomically
from kedro_azureml.contract.routing import PATH_KEYS
from kedro_azureml.contract.storage_paths import METADATA_FILE, marker_stamp
from kedro_azureml.distributed.ranks import is_distributed_master_node
from kedro_azureml.errors import StepDataError

KEDRO_FORMAT = "kedro-dataset"
RANK_WAIT_VARIABLE = "KEDRO_AZUREML_RANK_WAIT_SECONDS"
RANK_WAIT_SECONDS = 600.0


def write_marker(folder: Path, payload: dict[str, Any]) -> None:
    """Write the completion marker last and atomically: its presence means "complete".

    It names the run that wrote it, so a runner can tell this run's data from another's.
    """
    payload = {**payload, **marker_stamp()}
    write_text_atomically(folder / METADATA_FILE, json.dumps(payload, indent=2, sort_keys=True))


class MasterSavesDataset(AbstractDataset[Any, Any]):
    """Wraps a step output on the non-master ranks of a distributed step: loads, never saves.

    Every rank computes the same result; written once by rank 0, a remote table or a data
    asset gets one copy instead of one per rank racing each other.
    """

    def __init__(self, dataset: AbstractDataset, name: str) -> None:
        self._dataset = dataset
        self._name = name

    def _describe(self) -> dict[str, Any]:
        return {"name": self._name, "saved_by": "rank 0 only"}

    def load(self) -> Any:
        return self._dataset.load()

    def save(self, data: Any) -> None:
        return None


class StepFolderDataset(AbstractDataset[Any, Any]):
    """A dataset that crosses a step boundary, kept in one Azure ML ``uri_folder``.

    With ``catalog_config`` set, the catalog dataset is rebuilt with its path inside the
    folder; otherwise the object is serialised with :mod:`kedro_azureml.step.serialization`.
    """

    def __init__(
        self, *, name: str, folder: str, catalog_config: dict[str, Any] | None = None
    ) -> None:
        self._name = name
        self._folder = Path(folder)
        self._catalog_config = catalog_config

    def _describe(self) -> dict[str, Any]:
        return {"name": self._name, "folder": str(self._folder), "kind": self._kind}

    @property
    def _kind(self) -> str:
        return str(self._catalog_config.get("type")) if self._catalog_config else "object"

    def _inner(self, folder: Path) -> AbstractDataset:
        assert self._catalog_config is not None
        config = dict(self._catalog_config)
        config.pop("versioned", None)
        if str(config.get("type", "")).rsplit(".", 1)[-1] == "AzureMLPipelineDataset":
            # Its path is root_dir/<filepath>: move root_dir, keep the layout under it.
            dataset: Any = AbstractDataset.from_config(self._name, config)
            return dataset.with_folder(str(folder))  # type: ignore[no-any-return]
        for key in PATH_KEYS:
            if isinstance(config.get(key), str):
                basename = PurePosixPath(config[key].rstrip("/")).name or self._name
                config[key] = str(folder / basename)
                break
        return AbstractDataset.from_config(self._name, config)

    def _exists(self) -> bool:
        return (self._folder / METADATA_FILE).is_file()

    def _wait_until_complete(self) -> None:
        """Rank 0 saves for every rank; the others wait for it, but never forever."""
        if self._exists():
            return
        if is_distributed_master_node():
            raise StepDataError(
                f"Dataset '{self._name}' in {self._folder} is incomplete: the step that "
                "produces it did not finish writing it."
            )
        deadline = time.monotonic() + float(os.environ.get(RANK_WAIT_VARIABLE, RANK_WAIT_SECONDS))
        while not self._exists():
            if time.monotonic() > deadline:
                raise StepDataError(
                    f"Gave up waiting for rank 0 to write dataset '{self._name}' in "
                    f"{self._folder} (set {RANK_WAIT_VARIABLE} to wait longer)."
                )
            time.sleep(0.2)

    def load(self) -> Any:
        self._wait_until_complete()
        if self._catalog_config is None:
            from kedro_azureml.step import serialization

            return serialization.load_object(str(self._folder))
        return self._inner(self._folder).load()

    def save(self, data: Any) -> None:
        if not is_distributed_master_node():
            return  # Every rank computes the same result; one copy is enough.
        self._folder.mkdir(parents=True, exist_ok=True)
        if self._catalog_config is None:
            from kedro_azureml.step import serialization

            serialization.save_object(data, str(self._folder))
            return
        (self._folder / METADATA_FILE).unlink(missing_ok=True)
        partial = self._folder / f".partial-{uuid.uuid4().hex}"
        partial.mkdir()
        try:
            self._inner(partial).save(data)
            for item in partial.iterdir():
                target = self._folder / item.name
                if target.is_dir():
                    shutil.rmtree(target)
                os.replace(item, target)
        finally:
            shutil.rmtree(partial, ignore_errors=True)
        write_marker(
            self._folder,
            {"format": KEDRO_FORMAT, "dataset_type": self._kind, "dataset": self._name},
        )
