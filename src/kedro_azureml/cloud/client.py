"""The only module that talks to Azure ML: connect, check, register, submit, watch.

Everything here takes an ``MLClient`` (or builds one with :func:`connect`) and plain values,
and turns the SDK's exceptions into messages that say what to fix. ``azure.ai.ml`` is
imported inside functions: it costs about two seconds, and Kedro imports our CLI for every
command.

Test seam (for this project's tests only): when ``KEDRO_AZUREML_ALLOW_TEST_ENDPOINT=1`` AND
``KEDRO_AZUREML_TEST_ENDPOINT`` names a JSON file, :func:`connect_workspace` (and so
:func:`connect` and the datasets' downloads) points the client at a local stand-in of the
Azure ML REST API instead of Azure::

    {
      "cloud_name": "KedroAzureMLStandin8443",
      "cloud_metadata": {"resource_manager": "https://127.0.0.1:8443/", ...},
      "ca_bundle": "/tmp/standin-ca.pem",
      "credential": "tests.support.credentials:FakeCredential",
      "blob_endpoints": {"devstoreaccount1": "http://127.0.0.1:10000/devstoreaccount1"}
    }

``credential`` names a zero-argument callable (``module:attribute``) returning a credential;
it is imported from the caller's ``sys.path`` (the tests put the repository root on
``PYTHONPATH``), so no fake credential ships with the plugin. ``blob_endpoints`` (optional)
maps storage account names to their blob service URL (Azurite), as the SDK can only build
``https://<account>.blob.<suffix>``. Every URL must point at 127.0.0.1, ::1 or localhost, and
a warning is printed on every use. One variable alone is an error, so a stray setting never
silently redirects a real submission.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kedro_azureml.config import TemporaryStorageConfig, Workspace
from kedro_azureml.contract.references import import_reference
from kedro_azureml.contract.sdk_warnings import quiet_sdk
from kedro_azureml.contract.storage_paths import redact_urls, temp_datastore_name
from kedro_azureml.errors import KedroAzureMLError

logger = logging.getLogger(__name__)

TEST_ENDPOINT_ENV = "KEDRO_AZUREML_TEST_ENDPOINT"
ALLOW_TEST_ENDPOINT_ENV = "KEDRO_AZUREML_ALLOW_TEST_ENDPOINT"
_LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")
# Cloud metadata keys that are resource identifiers or host suffixes, not URLs to call.
_NOT_CALLED = ("aml_resource_id", "storage_endpoint")
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


class AzureMLError(KedroAzureMLError):
    """Azure ML refused or could not do what we asked."""


@dataclass
class WorkspaceConnection:
    """An ``MLClient`` for one workspace, plus what reading the workspace's storage needs."""

    ml_client: Any
    credential: Any
    blob_endpoints: dict[str, str] = field(default_factory=dict)

    def blob_account_url(self, account_name: str, endpoint: str, protocol: str) -> str:
        """The blob service URL of ``account_name``; the test seam may override it."""
        override = self.blob_endpoints.get(account_name)
        return override or f"{protocol}://{account_name}.blob.{endpoint}"


@dataclass(frozen=True)
class LocalTestEndpoint:
    """A local stand-in of Azure ML, named by the test seam (see the module docstring)."""

    path: Path
    cloud_name: str
    cloud_metadata: dict[str, str]
    ca_bundle: str
    credential: str
    blob_endpoints: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_environment(cls) -> LocalTestEndpoint | None:
        path = os.environ.get(TEST_ENDPOINT_ENV)
        allowed = os.environ.get(ALLOW_TEST_ENDPOINT_ENV) == "1"
        if not path and not allowed:
            return None
        if not (path and allowed):
            raise KedroAzureMLError(
                f"{TEST_ENDPOINT_ENV} and {ALLOW_TEST_ENDPOINT_ENV}=1 go together (a test-only "
                "seam); unset both to use Azure."
            )
        try:
            data = json.loads(Path(path).read_text())
            endpoint = cls(
                path=Path(path),
                cloud_name=str(data["cloud_name"]),
                cloud_metadata={str(k): str(v) for k, v in data["cloud_metadata"].items()},
                ca_bundle=str(data["ca_bundle"]),
                credential=str(data["credential"]),
                blob_endpoints={str(k): str(v) for k, v in data.get("blob_endpoints", {}).items()},
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise KedroAzureMLError(f"{TEST_ENDPOINT_ENV}={path} is not usable: {exc}") from exc
        urls = [v for k, v in endpoint.cloud_metadata.items() if k not in _NOT_CALLED]
        urls += list(endpoint.blob_endpoints.values())
        remote = [url for url in urls if urlsplit(url).hostname not in _LOOPBACK_HOSTS]
        if remote or not urls:
            raise KedroAzureMLError(
                f"{TEST_ENDPOINT_ENV} may only point at this machine (127.0.0.1, ::1, "
                f"localhost); it names {remote or 'no URL'}."
            )
        return endpoint

    def make_credential(self) -> Any:
        try:
            factory = import_reference(self.credential)
        except ImportError as exc:
            raise KedroAzureMLError(
                f"{TEST_ENDPOINT_ENV}: cannot import credential {self.credential}: {exc}"
            ) from exc
        return factory()


def connect(workspace: Workspace, *, interactive: bool | None = None) -> Any:
    """An ``MLClient`` for ``workspace`` with a credential that has just got a token."""
    return connect_workspace(workspace, interactive=interactive).ml_client


def connect_workspace(
    workspace: Workspace, *, interactive: bool | None = None
) -> WorkspaceConnection:
    """An ``MLClient`` for ``workspace``, its signed-in credential, and blob URL overrides.

    ``interactive`` allows a browser sign-in when no login is found (default: only for a
    person at a terminal); the datasets pass ``False``, as a pipeline run must not wait.
    """
    from kedro_azureml.cloud.auth import default_credential, verified

    endpoint = LocalTestEndpoint.from_environment()  # validated before the slow SDK import
    with quiet_sdk():
        from azure.ai.ml import MLClient
    names = {
        "subscription_id": workspace.subscription_id,
        "resource_group_name": workspace.resource_group,
        "workspace_name": workspace.workspace_name,
    }
    if endpoint is None:
        credential = default_credential(interactive=interactive)
        client = MLClient(credential, **names, show_progress=bool(interactive))
        return WorkspaceConnection(client, credential)
    import click

    click.secho(
        f"WARNING: TEST SEAM ACTIVE: {TEST_ENDPOINT_ENV}={endpoint.path} points kedro-azureml at "
        "a local stand-in, NOT at Azure. Unset it (it is for kedro-azureml's own tests).",
        err=True,
        fg="red",
        bold=True,
    )
    credential = verified(endpoint.make_credential())
    client = MLClient(
        credential,
        **names,
        cloud=endpoint.cloud_name,
        cloud_metadata=endpoint.cloud_metadata,
        connection_verify=endpoint.ca_bundle,
        enable_telemetry=False,
        show_progress=False,
        retry_total=0,
    )
    return WorkspaceConnection(client, credential, dict(endpoint.blob_endpoints))


def error_reason(exc: Exception) -> str:
    """One line saying what went wrong, from an SDK error.

    The SDK formats some errors for a terminal (colours, "1) Resource was not found." and the
    cause on a line starting "(x) "): those give their "(x)" lines. A URL's query string (the
    code upload's SAS, in a connection error) never reaches the message.
    """
    text = redact_urls(_ANSI_ESCAPE.sub("", str(getattr(exc, "message", None) or exc)))
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    details = [line.removeprefix("(x) ") for line in lines if line.startswith("(x) ")]
    if details:
        return " ".join(details)
    return lines[0] if lines else type(exc).__name__


def missing_computes(ml_client: Any, clusters: Mapping[str, list[str]]) -> list[str]:
    """Problems with the compute clusters ``{cluster_name: [aliases]}``; empty when all exist."""
    from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

    problems = []
    for cluster, aliases in sorted(clusters.items()):
        where = ", ".join(f"azure.compute.{alias}" for alias in aliases)
        try:
            ml_client.compute.get(cluster)
        except ResourceNotFoundError:
            problems.append(
                f"Compute cluster '{cluster}' ({where}) does not exist in workspace "
                f"'{ml_client.workspace_name}': create it, or fix the name in azureml.yml."
            )
        except HttpResponseError as exc:
            problems.append(
                f"Compute cluster '{cluster}' ({where}) could not be read: {error_reason(exc)}"
            )
    return problems


def parse_environment_reference(reference: str) -> tuple[str, str | None, str | None]:
    """``azureml:name@latest`` / ``name:version`` -> (name, label, version)."""
    bare = reference.removeprefix("azureml:")
    if "@" in bare:
        name, label = bare.split("@", 1)
        return name, label, None
    name, _, version = bare.partition(":")
    return name, None, version or None


def missing_environment(ml_client: Any, reference: str) -> str | None:
    """A problem with the registered environment ``reference``, or None when it exists."""
    from azure.ai.ml.exceptions import ValidationException
    from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

    name, label, version = parse_environment_reference(reference)
    try:
        with quiet_sdk():
            if label:
                ml_client.environments.get(name, label=label)
            else:
                ml_client.environments.get(name, version=version)
    except (ResourceNotFoundError, ValidationException):
        return (
            f"Environment '{reference.removeprefix('azureml:')}' is not registered in workspace "
            f"'{ml_client.workspace_name}': register it (`az ml environment create --name {name} "
            "--image <image>`), or fix azure.environment_name / --aml-env."
        )
    except HttpResponseError as exc:
        return f"Environment '{reference}' could not be read: {error_reason(exc)}"
    return None


def container_sas(storage: TemporaryStorageConfig, account_key: str) -> str:
    """A container SAS for the temporary container, valid for ``storage.sas_ttl_days``."""
    from azure.storage.blob import ContainerSasPermissions, generate_container_sas

    return str(
        generate_container_sas(
            account_name=storage.account_name,
            container_name=storage.container,
            account_key=account_key,
            permission=ContainerSasPermissions(
                read=True, add=True, create=True, write=True, delete=True, list=True
            ),
            expiry=datetime.now(timezone.utc) + timedelta(days=storage.sas_ttl_days),
        )
    )


def ensure_temporary_datastore(
    ml_client: Any, temporary_storage_config: TemporaryStorageConfig, account_key: str | None
) -> str:
    """Register the temporary container as datastore ``kedro_azureml_temp_<hash>``; return its name.

    With ``auth: sas`` the datastore holds a container SAS made here from the key, so the key
    itself never leaves this machine. With ``auth: identity`` it holds no credentials and the
    compute's managed identity reads and writes the container.
    """
    with quiet_sdk():
        from azure.ai.ml.entities import AzureBlobDatastore, SasTokenConfiguration
    from azure.core.exceptions import HttpResponseError

    storage = temporary_storage_config
    name = temp_datastore_name(storage.account_name, storage.container)
    credentials = None
    if storage.auth == "sas":
        if not account_key:
            raise KedroAzureMLError(
                f"A storage account key for '{storage.account_name}' is needed to make the "
                "temporary datastore's SAS token."
            )
        credentials = SasTokenConfiguration(sas_token=container_sas(storage, account_key))
    datastore = AzureBlobDatastore(
        name=name,
        description="kedro-azureml: data passed between steps (temporary_storage)",
        account_name=storage.account_name,
        container_name=storage.container,
        credentials=credentials,
    )
    try:
        ml_client.datastores.create_or_update(datastore)
    except HttpResponseError as exc:
        raise AzureMLError(
            f"Could not register datastore '{name}' for container "
            f"'{storage.container}' of '{storage.account_name}': {error_reason(exc)}"
        ) from exc
    return name


def _resolvable_environments(job: Any) -> None:
    """``azureml:name@latest`` as the SDK resolves it when submitting Python objects.

    ``az ml job create`` reads ``azureml:name@label`` from YAML, but for a job built in
    Python the SDK (1.35) looks up an environment literally named ``azureml:name`` and fails.
    ``name@label`` resolves; ``azureml:name:version`` does too, so only labels change.
    """
    for node in job.jobs.values():
        holders: list[Any] = [node, getattr(node, "component", None)]
        for holder in holders:
            environment = getattr(holder, "environment", None)
            if (
                isinstance(environment, str)
                and environment.startswith("azureml:")
                and "@" in environment
            ):
                holder.environment = environment.removeprefix("azureml:")


def create_job(ml_client: Any, job: Any, experiment_name: str) -> Any:
    """Upload the code (if any), register the anonymous components and create the job."""
    from azure.ai.ml.exceptions import MlException
    from azure.core.exceptions import AzureError

    _resolvable_environments(job)
    try:
        with quiet_sdk():
            return ml_client.jobs.create_or_update(job, experiment_name=experiment_name)
    except (AzureError, MlException) as exc:  # AzureError: also a code upload that failed
        raise AzureMLError(f"Azure ML did not accept the job: {error_reason(exc)}") from None


def stream_job(ml_client: Any, name: str) -> None:
    """Print the job's logs until it ends; a failed or cancelled job is not an exception here."""
    from azure.ai.ml.exceptions import JobException

    try:
        with quiet_sdk():
            ml_client.jobs.stream(name)
    except JobException as exc:
        # The SDK turns Ctrl-C into a JobException; give the caller its Ctrl-C back, so it can
        # offer to cancel the job instead of reporting a job that is still running.
        if isinstance(
            exc.__context__, KeyboardInterrupt
        ) or "streaming for the run interrupted" in str(exc):
            raise KeyboardInterrupt from exc
        logger.debug("Job %s ended with: %s", name, exc)


@dataclass(frozen=True)
class StepRun:
    display_name: str
    name: str
    status: str
    studio_url: str | None = None


def _status_text(status: Any) -> str:
    """The SDK gives statuses as ``JobStatus`` enums or strings; we print "Completed"."""
    return str(getattr(status, "value", status))


def job_status(ml_client: Any, name: str) -> str:
    return _status_text(ml_client.jobs.get(name).status)


def step_runs(ml_client: Any, parent_name: str) -> list[StepRun]:
    """The child runs (one per step) of pipeline job ``parent_name``."""
    return [
        StepRun(
            str(child.display_name or child.name),
            str(child.name),
            _status_text(child.status),
            getattr(child, "studio_url", None),
        )
        for child in ml_client.jobs.list(parent_job_name=parent_name)
    ]


def cancel_job(ml_client: Any, name: str) -> None:
    ml_client.jobs.begin_cancel(name).result()
