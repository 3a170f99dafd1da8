"""What the CLI, the compiler and the step agree on about kedro-mlflow (never imported here).

kedro-mlflow (2.0.x) registers its hook in every Kedro project of the environment it is
installed in. In an Azure ML step (and a ``run --local`` step) the hook must log into the run
Azure ML made for that step; in the CLI, which only reads the project, it must not set anything
up at all. Its tracking datasets keep their data in an MLflow run, so between steps only a
reference to that run travels.
"""

from __future__ import annotations

from typing import Any

# kedro-mlflow datasets whose data lives in the MLflow run that saved it. Matched on the class
# name, as users write the full path (kedro_mlflow.io.artifacts.MlflowArtifactDataset).
RUN_DATASET_TYPES = frozenset(
    {
        "MlflowArtifactDataset",
        "MlflowModelTrackingDataset",
        "MlflowMetricDataset",
        "MlflowMetricHistoryDataset",
        "MlflowMetricsHistoryDataset",
    }
)
# The step-folder marker of such a dataset: "the data is in MLflow run <run_id>".
RUN_REFERENCE_FORMAT = "mlflow-run"
# Tag on a step's run: the Kedro nodes the step ran, comma-separated.
NODES_TAG = "kedro_azureml.nodes"
# Tag prefix on a step's run: the run each kedro-mlflow input was loaded from.
LOADED_FROM_TAG = "kedro_azureml.loaded_from."


def is_run_dataset(config: dict[str, Any] | None) -> bool:
    """A kedro-mlflow dataset that keeps its data in an MLflow run (by its catalog entry)."""
    if not config:
        return False
    return str(config.get("type", "")).rsplit(".", 1)[-1] in RUN_DATASET_TYPES


def kedro_mlflow_hooks(hook_manager: Any) -> list[Any]:
    """kedro-mlflow's hook objects registered in a Kedro session's hook manager.

    Found by where their class lives, so a hook registered by entry point and one listed in
    settings.HOOKS (kedro-mlflow's older set-up) are both found, and a plugin disabled with
    DISABLE_HOOKS_FOR_PLUGINS is not.
    """
    return [
        plugin
        for plugin in hook_manager.get_plugins()
        if type(plugin).__module__.split(".", 1)[0] == "kedro_mlflow"
    ]
