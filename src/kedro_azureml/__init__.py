"""Run Kedro pipelines as Azure ML pipeline jobs."""

__version__ = "0.1.0"
