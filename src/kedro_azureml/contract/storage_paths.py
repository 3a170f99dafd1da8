"""Where temporary Blob storage (mode B) keeps step outputs: names shared by compiler, step and runner.

At submit time the user's container is registered as the Azure ML datastore
``kedro_azureml_temp_<hash>``; steps' outputs are mounted from
``azureml://datastores/kedro_azureml_temp_<hash>/paths/kedro-azureml-temp/<job name>/<port>/``.
The hash names the account and container, so projects of one workspace that use different
containers never re-register each other's datastore under running jobs.

``${{name}}`` is the job's own name on Azure ML; ``run --local`` puts a random run id there, so
two projects (or two copies of one) sharing a container never read each other's data. Every
step writes its run id (``AZUREML_ROOT_RUN_ID``, which Azure ML sets in every step of a
pipeline job and ``run --local`` sets the same way) into its completion markers, and the local
runner accepts a step's output only when its marker names the run.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import uuid
from typing import Any

TEMP_DATASTORE = "kedro_azureml_temp"
TEMP_PREFIX = "kedro-azureml-temp"
METADATA_FILE = "_kedro_azureml.json"
# The submitter's storage and sign-in secrets: never in a job, its YAML or the uploaded code
# (run --local steps get an allowlisted environment, see local/runner.py).
SECRET_ENV_VARS = (
    "AZURE_STORAGE_ACCOUNT_KEY",
    "AZURE_STORAGE_CONNECTION_STRING",
    "AZURE_STORAGE_SAS_TOKEN",
    "AZURE_CLIENT_SECRET",
    "AZURE_CLIENT_CERTIFICATE_PASSWORD",
)
# A URL's query string may hold a SAS signature: never in a message, a log or a report.
_URL_QUERY = re.compile(r"\?[^\s'\"<>]*")
# Set by Azure ML in every step: the pipeline job's run id, and the step's own run id.
RUN_ID_VARIABLE = "AZUREML_ROOT_RUN_ID"
STEP_RUN_ID_VARIABLE = "AZUREML_RUN_ID"
MARKER_RUN_ID = "job_run_id"  # not "run_id": an MLflow run reference uses that key
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")
# azureml://[subscriptions/<id>/resourcegroups/<rg>/workspaces/<ws>/]datastores/<name>/paths/<path>
# Jobs are compiled with the short form; Azure ML answers with the workspace-qualified one (a
# data asset's path). The prefix is matched segment by segment, up to the first "datastores/".
DATASTORE_URI = re.compile(
    r"^azureml://(?:[^/]+/)*?datastores/(?P<datastore>[^/]+)/paths/(?P<path>.*)$"
)


def temp_datastore_name(account_name: str, container: str) -> str:
    digest = hashlib.sha256(f"{account_name}/{container}".encode()).hexdigest()[:8]
    return f"{TEMP_DATASTORE}_{digest}"


def datastore_output_path(port: str, datastore: str) -> str:
    return f"azureml://datastores/{datastore}/paths/{TEMP_PREFIX}/${{{{name}}}}/{port}/"


def is_datastore_uri(value: Any) -> bool:
    return isinstance(value, str) and bool(DATASTORE_URI.match(value))


def new_local_run_id() -> str:
    """A run id for ``run --local``: random, so it is unique across projects and machines."""
    return f"local-{uuid.uuid4().hex}"


def is_run_id(value: str) -> bool:
    """A run id is one safe path segment: it becomes a folder name in the Blob container."""
    return bool(_RUN_ID.match(value))


def marker_stamp() -> dict[str, str]:
    """What a completion marker records about the run that wrote it (nothing outside a run)."""
    run_id = os.environ.get(RUN_ID_VARIABLE)
    return {MARKER_RUN_ID: run_id} if run_id else {}


def account_key_problem(key: str, source: str) -> str | None:
    """Why ``key`` cannot be a storage account key, naming ``source`` (never the value), or None.

    Account keys are base64 (88 characters ending in ``==``); anything else would fail deep in
    the storage SDK's request signing, with a ``binascii.Error`` traceback, after work began.
    """
    try:
        base64.b64decode(key.strip(), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError) as exc:
        return (
            f"{source} is not a storage account key: account keys are base64, 88 characters "
            f"ending in == as `az storage account keys list` prints them, and this value is not "
            f"({exc}). Check that it is complete, on one line and without quotes."
        )
    return None


def redact_urls(text: str) -> str:
    """``text`` with every URL query string (a SAS token, say) replaced by ``?...``."""
    return _URL_QUERY.sub("?...", text)
