"""Definition of the data_science pipeline."""

from __future__ import annotations

from kedro.pipeline import Node, Pipeline, node, pipeline

from .nodes import evaluate_model, split_data, train_model


def split_data_node() -> Node:
    """The train/test split, shared with the distributed pipeline."""
    return node(
        func=split_data,
        inputs=["model_input_table", "params:model_options"],
        outputs=["X_train", "X_test", "y_train", "y_test"],
        name="split_data_node",
    )


def create_pipeline(**kwargs: object) -> Pipeline:
    """Build the data_science pipeline in the ``data_science.active_modelling_pipeline`` namespace.

    ``model_input_table`` is kept as the (un-prefixed) input. Kedro prefixes
    ``params:model_options`` with the namespace on its own, so the parameters are
    read from ``data_science.active_modelling_pipeline.model_options``.
    """
    base = pipeline(
        [
            split_data_node(),
            node(
                func=train_model,
                inputs=["X_train", "y_train"],
                outputs="regressor",
                name="train_model_node",
            ),
            node(
                func=evaluate_model,
                inputs=["regressor", "X_test", "y_test"],
                outputs="metrics",
                name="evaluate_model_node",
            ),
        ]
    )
    return pipeline(
        base,
        namespace="data_science.active_modelling_pipeline",
        inputs="model_input_table",
    )
