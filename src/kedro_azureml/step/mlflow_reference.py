"""kedro-mlflow's datasets across steps: the data stays in the MLflow run of the step that saved
it, and the step's output folder records which run that is, so a later step loads from exactly
that run (the run id travels with the data, it is never guessed).
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

from kedro.io import AbstractDataset

from kedro_azureml.contract.kedro_mlflow import LOADED_FROM_TAG, RUN_REFERENCE_FORMAT
from kedro_azureml.contract.routing import dataset_path, is_remote
from kedro_azureml.contract.storage_paths import METADATA_FILE
from kedro_azureml.distributed.ranks import is_distributed_master_node
from kedro_azureml.errors import StepDataError

logger = logging.getLogger(__name__)
_TAG_KEY_UNSAFE = re.compile(r"[^\w.\- /]")


class MlflowRunReferenceDataset(AbstractDataset[Any, Any]):
    """A kedro-mlflow dataset at a step boundary, read and written through the dataset itself.

    Saving logs the data into the producing step's MLflow run as kedro-mlflow always does, then
    writes which run (and, for a model, which model URI) into the step's output folder. Loading
    in a later step reads that reference and loads from exactly that run: the run id travels
    with the data instead of being guessed from the active run, which is the reader's own.
    """

    def __init__(
        self, *, name: str, folder: str, dataset: AbstractDataset, config: dict[str, Any]
    ) -> None:
        self._name = name
        self._folder = Path(folder)
        self._dataset = dataset
        self._config = config

    def _describe(self) -> dict[str, Any]:
        return {"name": self._name, "folder": str(self._folder), "type": self._type}

    @property
    def _type(self) -> str:
        return str(self._config.get("type", "")).rsplit(".", 1)[-1]

    def save(self, data: Any) -> None:
        if not is_distributed_master_node():
            return  # every rank computes the same result; rank 0 logs it once
        from kedro_azureml.step.step_data import write_marker

        self._dataset.save(data)
        reference = _saved_in(self._dataset)
        if not reference.get("run_id"):
            raise StepDataError(
                f"Dataset '{self._name}' ({self._type}) is read by a later step, but "
                "kedro-mlflow did not log it into any MLflow run (is tracking disabled for "
                "this pipeline in mlflow.yml, tracking.disable_tracking.pipelines?). Enable "
                "tracking for this pipeline, or declare the dataset without kedro-mlflow."
            )
        write_marker(
            self._folder,
            {
                "format": RUN_REFERENCE_FORMAT,
                "dataset": self._name,
                "dataset_type": self._type,
                **reference,
            },
        )

    def load(self) -> Any:
        reference = self._reference()
        dataset = self._from_run(reference)
        _tag_loaded_from(self._name, reference["run_id"])
        logger.info(
            "Loading '%s' from MLflow run %s, where the step that made it logged it.",
            self._name,
            reference["run_id"],
        )
        return dataset.load()

    def _reference(self) -> dict[str, Any]:
        marker = self._folder / METADATA_FILE
        try:
            reference: dict[str, Any] = json.loads(marker.read_text())
        except (OSError, ValueError) as exc:
            raise StepDataError(
                f"Dataset '{self._name}' has no MLflow run reference in {self._folder}: the "
                f"step that produces it did not finish saving it ({exc})."
            ) from exc
        if reference.get("format") != RUN_REFERENCE_FORMAT or not reference.get("run_id"):
            raise StepDataError(
                f"Dataset '{self._name}' in {self._folder} was not saved by kedro-mlflow in "
                f"the producing step (found format '{reference.get('format')}'). Recompile "
                "and rerun the job: its steps disagree on how this dataset travels."
            )
        return reference

    def _from_run(self, reference: dict[str, Any]) -> Any:
        if reference.get("model_uri"):  # a model is addressed by its URI, not by its run
            load_args = {
                **(self._config.get("load_args") or {}),
                "model_uri": reference["model_uri"],
            }
            return AbstractDataset.from_config(self._name, {**self._config, "load_args": load_args})
        # MlflowArtifactDataset and the metric datasets take the run to read as `run_id`.
        self._dataset.run_id = reference["run_id"]  # type: ignore[attr-defined]
        inner = self._config.get("dataset")
        located = dataset_path(inner) if isinstance(inner, dict) else None
        if located and not is_remote(located[1]):
            # kedro-mlflow downloads the artifact to the wrapped dataset's path, which the
            # code snapshot does not have (data layers are not uploaded).
            Path(located[1]).parent.mkdir(parents=True, exist_ok=True)
        return self._dataset


def _saved_in(dataset: Any) -> dict[str, Any]:
    """The run (and model URI) a kedro-mlflow dataset has just logged into, if any."""
    if getattr(dataset, "_logging_activated", True) is False:
        return {"run_id": None}
    info = getattr(dataset, "model_info", None)
    if info is not None:  # MlflowModelTrackingDataset
        return {"run_id": info.run_id, "model_uri": info.model_uri}
    run_id = getattr(dataset, "run_id", None)  # the metric datasets fall back on the active run
    if run_id is None:  # MlflowArtifactDataset without run_id logs into the active run
        import mlflow

        active = mlflow.active_run()
        run_id = active.info.run_id if active else None
    return {"run_id": run_id}


def _tag_loaded_from(name: str, run_id: str) -> None:
    """Record on the reader's run which run an input came from: lineage in the MLflow UI."""
    import mlflow

    active = mlflow.active_run()
    if active is not None:
        key = LOADED_FROM_TAG + _TAG_KEY_UNSAFE.sub("_", name)
        mlflow.MlflowClient().set_tag(active.info.run_id, key, run_id)
