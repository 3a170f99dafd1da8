"""kedro-mlflow inside an Azure ML step: it logs into the run Azure ML made for the step.

Azure ML (and ``run --local``) gives every step of a job an MLflow run, a child of the job's
run, and sets ``MLFLOW_TRACKING_URI``, ``MLFLOW_EXPERIMENT_ID`` and ``MLFLOW_RUN_ID``. Left
alone, kedro-mlflow's hook would set up mlflow.yml's tracking URI and experiment and start a
run of its own there, which MLflow refuses ("active experiment ID does not match environment
run ID") or which lands in a folder that is lost with the step's container.

kedro-mlflow has a way in for orchestrators: when an MLflow run is already active as its hook
starts, it takes the tracking URI, the experiment and the run from that run and ignores
mlflow.yml's, while its other settings (what to log, ``params`` flattening, long parameters,
disabled pipelines) still apply. So :class:`KedroMlflowStepHook`, ordered before kedro-mlflow's
hook, activates the step's run. It also sends the parameters kedro-mlflow logs to the job's run
(the step run's parent, as on Azure ML), so each is logged once per job and not once per step,
tags the step's run with its Kedro nodes, and ends the run with the pipeline.

It does nothing outside a step armed by ``kedro azureml execute``, without ``MLFLOW_RUN_ID``, or
without kedro-mlflow's hook in the session: a plain ``kedro run`` is untouched.

:class:`MlflowRunReferenceDataset` carries kedro-mlflow's datasets across steps: the data stays
in the MLflow run of the step that saved it, and the step's output folder records which run
that is, so a later step loads from exactly that run.
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.io import AbstractDataset

from kedro_azureml.contract.kedro_mlflow import (
    LOADED_FROM_TAG,
    NODES_TAG,
    RUN_REFERENCE_FORMAT,
    kedro_mlflow_hooks,
)
from kedro_azureml.contract.routing import dataset_path, is_remote
from kedro_azureml.contract.storage_paths import METADATA_FILE
from kedro_azureml.distributed.ranks import is_distributed_master_node
from kedro_azureml.errors import StepDataError
from kedro_azureml.step.hooks import step_hook

logger = logging.getLogger(__name__)

RUN_ID_ENV = "MLFLOW_RUN_ID"
PARENT_RUN_TAG = "mlflow.parentRunId"
_TAG_KEY_UNSAFE = re.compile(r"[^\w.\- /]")


@dataclass
class StepRun:
    """The step's MLflow run while kedro-mlflow logs into it, and where parameters go."""

    run_id: str
    plugins: list[Any]
    context: Any
    client: Any = None
    job_run_id: str | None = None
    logged_params: dict[str, str] = field(default_factory=dict)

    def log_param(self, name: str, value: Any) -> None:
        """kedro-mlflow's ``_log_param``, aimed at the job's run instead of the step's.

        Parameters are the job's: every step logging its nodes' share into its own run would
        scatter them over the steps. MLflow keeps one value per key, so a parameter read by
        several steps is written once.
        """
        from mlflow.utils.validation import MAX_PARAM_VAL_LENGTH

        assert self.job_run_id is not None
        text = str(value)
        if self.logged_params.get(name) == text:
            return
        if len(text) > MAX_PARAM_VAL_LENGTH:
            strategy = _long_params_strategy(self.context)
            if strategy == "tag":
                self.client.set_tag(self.job_run_id, name, text)
                return
            if strategy != "truncate":
                raise ValueError(
                    f"Parameter '{name}' is {len(text)} characters long, and MLflow takes at "
                    f"most {MAX_PARAM_VAL_LENGTH}. Set tracking.params.long_params_strategy "
                    "to 'tag' or 'truncate' in mlflow.yml to log it anyway."
                )
            text = text[:MAX_PARAM_VAL_LENGTH]
        self.client.log_param(self.job_run_id, name, text)
        self.logged_params[name] = text

    def restore_plugins(self) -> None:
        for plugin in self.plugins:
            plugin.__dict__.pop("_log_param", None)


def _long_params_strategy(context: Any) -> str:
    config = getattr(context, "mlflow", None)  # kedro-mlflow stores its config on the context
    try:
        return str(config.tracking.params.long_params_strategy)  # type: ignore[union-attr]
    except AttributeError:
        return "fail"


class KedroMlflowStepHook:
    """Points kedro-mlflow at the step's MLflow run; registered for every project."""

    def __init__(self) -> None:
        self.step_run: StepRun | None = None

    @hook_impl(tryfirst=True)
    def after_context_created(self, context: Any) -> None:
        self.step_run = None
        run_id = os.environ.get(RUN_ID_ENV)
        if step_hook.binding is None or not run_id:
            return
        plugins = kedro_mlflow_hooks(context._hook_manager)
        if not plugins:
            return
        import mlflow

        active = mlflow.active_run()
        if active is None:
            active = mlflow.start_run(run_id=run_id)
        elif active.info.run_id != run_id:
            return  # someone else started a run on purpose: leave kedro-mlflow to it
        self.step_run = StepRun(run_id=run_id, plugins=plugins, context=context)
        experiment = mlflow.get_experiment(active.info.experiment_id)
        logger.info(
            "kedro-mlflow logs into this step's MLflow run %s (experiment '%s'); the tracking "
            "server, experiment and run of mlflow.yml are not used inside an Azure ML step.",
            run_id,
            experiment.name if experiment else active.info.experiment_id,
        )

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any) -> None:
        step_run = self.step_run
        if step_run is None:
            return
        from mlflow.tracking import MlflowClient
        from mlflow.utils.validation import MAX_TAG_VAL_LENGTH

        step_run.client = client = MlflowClient()
        nodes = run_params.get("node_names") or sorted(node.name for node in pipeline.nodes)
        client.set_tag(step_run.run_id, NODES_TAG, ", ".join(nodes)[:MAX_TAG_VAL_LENGTH])
        job_run_id = client.get_run(step_run.run_id).data.tags.get(PARENT_RUN_TAG)
        if not job_run_id:
            logger.info("This step's MLflow run has no parent: parameters are logged into it.")
            return
        step_run.job_run_id = job_run_id
        step_run.logged_params = dict(client.get_run(job_run_id).data.params)
        for plugin in step_run.plugins:
            if callable(getattr(plugin, "_log_param", None)):
                plugin._log_param = step_run.log_param
            else:  # a kedro-mlflow that logs parameters some other way
                logger.warning(
                    "kedro-mlflow %s has no _log_param: parameters stay in each step's run.",
                    type(plugin).__module__,
                )

    @hook_impl(trylast=True)  # after kedro-mlflow's, which still logs into the active run
    def after_pipeline_run(self) -> None:
        self._end("FINISHED")

    @hook_impl(trylast=True)
    def on_pipeline_error(self) -> None:
        self._end("FAILED")

    def _end(self, status: str) -> None:
        step_run, self.step_run = self.step_run, None
        if step_run is None:
            return
        import mlflow

        step_run.restore_plugins()
        active = mlflow.active_run()
        if active is not None and active.info.run_id == step_run.run_id:
            mlflow.end_run(status)


kedro_mlflow_step_hook = KedroMlflowStepHook()


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
