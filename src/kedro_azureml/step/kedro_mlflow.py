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

kedro-mlflow's datasets cross steps through
:class:`kedro_azureml.step.mlflow_reference.MlflowRunReferenceDataset`.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any

from kedro.framework.hooks import hook_impl

from kedro_azureml.contract.kedro_mlflow import (
    NODES_TAG,
    kedro_mlflow_hooks,
)
from kedro_azureml.step.hooks import step_hook

logger = logging.getLogger(__name__)

RUN_ID_ENV = "MLFLOW_RUN_ID"
PARENT_RUN_TAG = "mlflow.parentRunId"


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
