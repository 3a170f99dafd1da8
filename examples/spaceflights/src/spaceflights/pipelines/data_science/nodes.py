"""Nodes of the data_science pipeline."""

from __future__ import annotations

import logging
import os
from typing import Any

import pandas as pd
from sklearn.linear_model import LinearRegression
from sklearn.metrics import max_error, mean_absolute_error, r2_score
from sklearn.model_selection import train_test_split


def split_data(
    data: pd.DataFrame, parameters: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series, pd.Series]:
    """Split the model input table into train and test features and targets.

    Args:
        data: Model input table with the feature columns and ``price``.
        parameters: ``model_options`` with ``features``, ``test_size`` and ``random_state``.

    Returns:
        ``X_train``, ``X_test``, ``y_train``, ``y_test``.
    """
    features = data[parameters["features"]].astype("float64")
    target = data["price"].astype("float64")
    x_train, x_test, y_train, y_test = train_test_split(
        features,
        target,
        test_size=parameters["test_size"],
        random_state=parameters["random_state"],
    )
    return x_train, x_test, y_train, y_test


def train_model(x_train: pd.DataFrame, y_train: pd.Series) -> LinearRegression:
    """Fit a linear regression of the price on the features.

    Args:
        x_train: Training features.
        y_train: Training prices.

    Returns:
        The fitted regressor.
    """
    regressor = LinearRegression()
    regressor.fit(x_train, y_train)
    return regressor


def evaluate_model(
    regressor: LinearRegression, x_test: pd.DataFrame, y_test: pd.Series
) -> dict[str, float]:
    """Score the regressor on the test split and log its R^2 (to MLflow too, when tracked).

    Azure ML, and ``kedro azureml run --local`` when MLflow is installed, start an MLflow run
    for every step and set ``MLFLOW_RUN_ID``; plain ``kedro run`` leaves it unset and logs
    nothing to MLflow.

    Args:
        regressor: Fitted regressor.
        x_test: Test features.
        y_test: Test prices.

    Returns:
        ``r2_score``, ``mae`` and ``max_error`` as plain floats.
    """
    y_pred = regressor.predict(x_test)
    r2 = float(r2_score(y_test, y_pred))
    mae = float(mean_absolute_error(y_test, y_pred))
    worst = float(max_error(y_test, y_pred))
    logging.getLogger(__name__).info("Model has a coefficient R^2 of %.3f on test data.", r2)
    metrics = {"r2_score": r2, "mae": mae, "max_error": worst}
    if os.environ.get("MLFLOW_RUN_ID"):  # set in every Azure ML step and by run --local
        try:
            import mlflow
        except ImportError:  # an environment without the mlflow extra: the metrics still return
            logging.getLogger(__name__).warning("mlflow is not installed: metrics not logged")
        else:
            mlflow.log_metrics(metrics)
    return metrics
