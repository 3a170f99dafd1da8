"""``run --local``'s stand-in for Azure ML's datastore mounts (mode B, temporary storage).

On Azure ML a step's output is mounted from
``azureml://datastores/kedro_azureml_temp_<hash>/paths/kedro-azureml-temp/<job name>/<port>/``
and its consumers' inputs from the same path. The local runner emulates that: a producing
step's folder is uploaded after it succeeds (its completion marker last), and a consuming
step's folder is downloaded before it starts. The steps themselves only ever see plain
folders, as on Azure ML, so nothing on the step side knows where the container is.

The container is an fsspec file system: by default a folder on this machine laid out like the
container (no key, no network), or with ``run --local --remote-storage`` the real Blob
container through adlfs, which ``commands/`` gets from ``cloud/``. The same code moves the
files either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kedro_azureml.contract.storage_paths import DATASTORE_URI, METADATA_FILE
from kedro_azureml.errors import KedroAzureMLError

# Under the run folder: <account>/<container>/kedro-azureml-temp/<run id>/<port>/, as in Blob.
LOCAL_CONTAINERS = "temporary_storage"


@dataclass(frozen=True)
class DatastoreFolders:
    """Step folders kept in one container between steps."""

    fs: Any  # an fsspec file system: a local one, or adlfs' AzureBlobFileSystem
    root: str  # the container: its name for adlfs, its folder for a local file system
    datastore: str  # the datastore name the job's URIs use for this container
    where: str  # the container, for messages: "container 'c' of storage account 'a'"

    def remote_path(self, uri: str, job_name: str) -> str:
        match = DATASTORE_URI.match(uri)
        if not match or match["datastore"] != self.datastore:
            raise KedroAzureMLError(
                f"run --local can only mount datastore '{self.datastore}', not {uri}."
            )
        path = match["path"].replace("${{name}}", job_name).strip("/")
        return f"{self.root}/{path}"

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


def local_container(
    run_dir: Path, account_name: str, container: str, datastore: str
) -> DatastoreFolders:
    """The temporary container as a folder of the run: nothing leaves this machine.

    It lives in the run folder, so ``--resume`` finds the data of the steps that finished, and
    deleting a run deletes its data.
    """
    from fsspec.implementations.local import LocalFileSystem

    folder = (run_dir / LOCAL_CONTAINERS / account_name / container).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return DatastoreFolders(
        fs=LocalFileSystem(auto_mkdir=True),
        root=folder.as_posix(),
        datastore=datastore,
        where=f"the local folder {folder} (standing in for container '{container}')",
    )
