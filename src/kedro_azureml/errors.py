"""The one exception family of the plugin, so callers can catch everything we raise."""

from __future__ import annotations


class KedroAzureMLError(Exception):
    """Base class of every error kedro-azureml raises on purpose."""


class ConfigError(KedroAzureMLError):
    """azureml.yml is missing or does not describe a valid setup."""


class CompileError(KedroAzureMLError):
    """The Kedro pipeline cannot be turned into an Azure ML job as asked."""


class StepDataError(KedroAzureMLError):
    """Data that travels between steps is missing, incomplete or unreadable."""
