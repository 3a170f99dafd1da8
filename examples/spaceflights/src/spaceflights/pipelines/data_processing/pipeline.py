"""Definition of the data_processing pipeline."""

from __future__ import annotations

from kedro.pipeline import Pipeline, node, pipeline

from .nodes import create_model_input_table, preprocess_companies, preprocess_shuttles


def create_pipeline(**kwargs: object) -> Pipeline:
    """Build the namespaced data_processing pipeline.

    The raw inputs and ``model_input_table`` keep their names; the intermediate
    datasets and the node names get the ``data_processing.`` prefix.
    """
    base = pipeline(
        [
            node(
                func=preprocess_companies,
                inputs="companies",
                outputs="preprocessed_companies",
                name="preprocess_companies_node",
                tags="chunky",
            ),
            node(
                func=preprocess_shuttles,
                inputs="shuttles",
                outputs="preprocessed_shuttles",
                name="preprocess_shuttles_node",
            ),
            node(
                func=create_model_input_table,
                inputs=["preprocessed_shuttles", "preprocessed_companies", "reviews"],
                outputs="model_input_table",
                name="create_model_input_table_node",
                tags="chunky",
            ),
        ]
    )
    return pipeline(
        base,
        namespace="data_processing",
        inputs={"companies", "shuttles", "reviews"},
        outputs={"model_input_table"},
    )
