"""Split the model input table, fit a regressor and evaluate it."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
