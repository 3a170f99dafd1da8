"""Mode B: data between steps goes through the user's temporary Blob container.

On Azure, the container is registered as the Azure ML datastore ``kedro_azureml_temp_<hash>``
at submit time (with a SAS made from the account key on the submitting machine, or with the
compute's identity), and steps' outputs are mounted from
``azureml://datastores/kedro_azureml_temp_<hash>/paths/kedro-azureml-temp/<job name>/<port>/``.
The hash names the account and container, so projects of one workspace that use different
containers never re-register each other's datastore under running jobs. So the
steps see plain folders and no secret ever reaches a step, the YAML, the logs or the snapshot.

``run --local --remote-storage`` emulates those mounts on the real container
(``local/datastore.py`` moves the files; this module opens the container). The container is
first probed once with no retry on connection errors, and the file system that moves the
files retries a few times, briefly (see ``storage_policy``).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import Any

import adlfs

from kedro_azureml.cloud.storage_policy import (
    PROBE_POLICY,
    TRANSFER_POLICY,
    StorageUnreachable,
    unreachable_reason,
)
from kedro_azureml.contract.storage_paths import account_key_problem
from kedro_azureml.errors import KedroAzureMLError

_USER_AGENT = "kedro-azureml"


def _service_client(
    account_name: str, connection_string: str | None, account_key: str | None, policy: Any
) -> Any:
    from azure.storage.blob.aio import BlobServiceClient

    if connection_string:
        return BlobServiceClient.from_connection_string(
            connection_string, user_agent=_USER_AGENT, **policy
        )
    return BlobServiceClient(
        f"https://{account_name}.blob.core.windows.net",
        credential=account_key,
        user_agent=_USER_AGENT,
        **policy,
    )


class _BoundedRetryBlobFileSystem(adlfs.AzureBlobFileSystem):  # type: ignore[misc]
    """adlfs with ``TRANSFER_POLICY``: adlfs has no argument for the client's retries."""

    def do_connect(self) -> None:
        self.service_client = _service_client(
            self.account_name, self.connection_string, self.account_key, TRANSFER_POLICY
        )
        self.account_url = self.service_client.url.rstrip("/")


def probe_container(account_name: str, container: str, make_client: Callable[..., Any]) -> None:
    """Check, in seconds, that the container answers; one clear error otherwise."""
    from azure.core.exceptions import (
        ClientAuthenticationError,
        HttpResponseError,
        ResourceNotFoundError,
        ServiceRequestError,
        ServiceResponseError,
    )

    async def probe() -> None:
        async with make_client(PROBE_POLICY) as service:
            await service.get_container_client(container).get_container_properties()

    try:
        asyncio.run(probe())
    except (ServiceRequestError, ServiceResponseError) as exc:
        raise StorageUnreachable(
            f"Cannot reach storage account '{account_name}' (temporary_storage): "
            f"{unreachable_reason(exc)}. Check temporary_storage.account_name, and this "
            "machine's network and proxy settings; or run --local without --remote-storage, "
            "which passes the data through local folders."
        ) from None
    except ResourceNotFoundError:
        raise KedroAzureMLError(
            f"The temporary Blob container '{container}' does not exist in storage account "
            f"'{account_name}'. Create it (az storage container create --name {container} "
            f"--account-name {account_name}), or fix temporary_storage.container."
        ) from None
    except ClientAuthenticationError as exc:
        raise KedroAzureMLError(
            f"Storage account '{account_name}' refused the credentials for container "
            f"'{container}': {exc.reason or exc.message}. Check AZURE_STORAGE_ACCOUNT_KEY "
            "(or AZURE_STORAGE_CONNECTION_STRING)."
        ) from None
    except HttpResponseError as exc:
        raise KedroAzureMLError(
            f"Storage account '{account_name}' answered {exc.status_code} for container "
            f"'{container}': {exc.reason or exc.message}"
        ) from None


def open_blob_container(account_name: str, container: str) -> tuple[Any, str]:
    """The container as an adlfs file system, with the submitter's credentials from the
    environment, checked to answer; and how messages name it."""
    connection_string = os.environ.get("AZURE_STORAGE_CONNECTION_STRING") or None
    key = os.environ.get("AZURE_STORAGE_ACCOUNT_KEY") or None
    if not connection_string and key:
        problem = account_key_problem(key, "Environment variable AZURE_STORAGE_ACCOUNT_KEY")
        if problem:  # adlfs would only warn, and every step would fail signing its requests
            raise KedroAzureMLError(problem)
    elif not connection_string:
        raise KedroAzureMLError(
            f"run --local --remote-storage passes data through the Blob container "
            f"'{container}' of storage account '{account_name}' (temporary_storage): set "
            "AZURE_STORAGE_ACCOUNT_KEY (or AZURE_STORAGE_CONNECTION_STRING), or run --local "
            "without --remote-storage (local folders, no key), or set "
            "pipeline_data_passing.enabled: true in azureml.yml."
        )
    probe_container(
        account_name,
        container,
        lambda policy: _service_client(account_name, connection_string, key, policy),
    )
    if connection_string:
        fs = _BoundedRetryBlobFileSystem(connection_string=connection_string)
    else:
        fs = _BoundedRetryBlobFileSystem(account_name=account_name, account_key=key)
    fs.invalidate_cache()
    return fs, f"container '{container}' of storage account '{account_name}'"
