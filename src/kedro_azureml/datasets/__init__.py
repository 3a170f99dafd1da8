"""Kedro datasets for Azure ML. Importing them is cheap: the Azure SDK loads on first use."""

from __future__ import annotations

from kedro_azureml.datasets.asset_dataset import AzureMLAssetDataset, resolve_asset_versions
from kedro_azureml.datasets.pipeline_dataset import AzureMLPipelineDataset

__all__ = ["AzureMLAssetDataset", "AzureMLPipelineDataset", "resolve_asset_versions"]
