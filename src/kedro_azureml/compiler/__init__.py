"""Kedro pipeline in, Azure ML pipeline job out. Pure: no network, no credentials, no globals."""

import logging

# The SDK logs an "experimental class" warning for classes we never use; it is noise to users.
logging.getLogger("azure.ai.ml._utils._experimental").setLevel(logging.ERROR)
