"""spaceflights: example Kedro project for kedro-azureml."""

__version__ = "0.1"
