"""Mode B: data between steps goes through the user's temporary Blob container.

On Azure, the container is registered as the Azure ML datastore ``kedro_azureml_temp_<hash>``
at submit time (with a SAS made from the account key on the submitting machine, or with the
compute's identity), and steps' outputs are mounted from
``azureml://datastores/kedro_azureml_temp_<hash>/paths/kedro-azureml-temp/<job name>/<port>/``.
The hash names the account and container, so projects of one workspace that use different
containers never re-register each other's datastore under running jobs. So the
steps see plain folders and no secret ever reaches a step, the YAML, the logs or the snapshot.

``run --local`` emulates those mounts with adlfs: a producing step's folder is uploaded after
it succeeds, and a consuming step's folder is downloaded before it starts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kedro_azureml.contract.storage_paths import (
    DATASTORE_URI,
    METADATA_FILE,
    account_key_problem,
    temp_datastore_name,
)
from kedro_azureml.errors import KedroAzureMLError


@dataclass
class BlobFolders:
    """run --local's stand-in for Azure ML's datastore mounts, on a real Blob container."""

    fs: Any  # an adlfs AzureBlobFileSystem
    container: str
    datastore: str

    def remote_path(self, uri: str, job_name: str) -> str:
        match = DATASTORE_URI.match(uri)
        if not match or match["datastore"] != self.datastore:
            raise KedroAzureMLError(
                f"run --local can only mount datastore '{self.datastore}', not {uri}."
            )
        path = match["path"].replace("${{name}}", job_name).strip("/")
        return f"{self.container}/{path}"

    def upload(self, local: Path, remote: str) -> None:
        """Upload the folder; the completion marker goes last, as the step wrote it."""
        files = sorted(p for p in local.rglob("*") if p.is_file())
        for path in sorted(files, key=lambda p: p.name == METADATA_FILE):
            self.fs.put_file(str(path), f"{remote}/{path.relative_to(local).as_posix()}")

    def download(self, remote: str, local: Path) -> None:
        local.mkdir(parents=True, exist_ok=True)
        if not self.fs.exists(remote):
            return  # an empty folder: the consumer reports the missing data itself
        for path in self.fs.find(remote):
            target = local / path[len(remote) :].lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            self.fs.get_file(path, str(target))


def blob_folders_from_environment(account_name: str, container: str) -> BlobFolders:
    """Connect with the submitter's own credentials, read from the environment."""
    import adlfs

    connection_string = os.environ.get("AZURE_STORAGE_CONNECTION_STRING")
    key = os.environ.get("AZURE_STORAGE_ACCOUNT_KEY")
    if connection_string:
        fs = adlfs.AzureBlobFileSystem(connection_string=connection_string)
    elif key:
        problem = account_key_problem(key, "Environment variable AZURE_STORAGE_ACCOUNT_KEY")
        if problem:  # adlfs would only warn, and every step would fail signing its requests
            raise KedroAzureMLError(problem)
        fs = adlfs.AzureBlobFileSystem(account_name=account_name, account_key=key)
    else:
        raise KedroAzureMLError(
            f"This job passes data through the Blob container '{container}' of storage account "
            f"'{account_name}' (temporary_storage). For run --local set "
            "AZURE_STORAGE_ACCOUNT_KEY (or AZURE_STORAGE_CONNECTION_STRING), or set "
            "pipeline_data_passing.enabled: true in azureml.yml."
        )
    fs.invalidate_cache()
    if not fs.exists(container):
        raise KedroAzureMLError(
            f"The temporary Blob container '{container}' does not exist in storage account "
            f"'{fs.account_name}'. Create it (az storage container create --name {container} "
            f"--account-name {fs.account_name}), or fix temporary_storage.container."
        )
    return BlobFolders(
        fs=fs, container=container, datastore=temp_datastore_name(account_name, container)
    )
