"""Kedro pipeline in, Azure ML pipeline job out. Pure: no network, no credentials, no globals."""
