"""Definition of the distributed pipeline: the data, then a PyTorch model trained on N ranks."""

from __future__ import annotations

from kedro.pipeline import Pipeline, node, pipeline

from spaceflights.pipelines.data_science.pipeline import split_data_node

from .nodes import train_distributed_model


def create_pipeline(**kwargs: object) -> Pipeline:
    """Split the table and train with ``torch.distributed``, in the data_science namespace.

    The training node's ``num_nodes="params:num_nodes"`` is resolved when the pipeline is
    compiled, from ``data_science.active_modelling_pipeline.num_nodes``.
    """
    base = pipeline(
        [
            split_data_node(),
            node(
                func=train_distributed_model,
                inputs=["X_train", "y_train"],
                outputs="distributed_training_report",
                name="train_distributed_model_node",
            ),
        ]
    )
    return pipeline(
        base,
        namespace="data_science.active_modelling_pipeline",
        inputs="model_input_table",
    )
