"""Project pipelines."""

from __future__ import annotations

from kedro.pipeline import Pipeline

from spaceflights.pipelines import data_processing, data_science, distributed_training


def register_pipelines() -> dict[str, Pipeline]:
    """Register the project's pipelines.

    Returns:
        A mapping from pipeline names to ``Pipeline`` objects.
    """
    data_processing_pipeline = data_processing.create_pipeline()
    data_science_pipeline = data_science.create_pipeline()
    return {
        "__default__": data_processing_pipeline + data_science_pipeline,
        "data_processing": data_processing_pipeline,
        "data_science": data_science_pipeline,
        # Needs torch (requirements-distributed.txt); the other pipelines run without it.
        "distributed": data_processing_pipeline + distributed_training.create_pipeline(),
    }
