"""A local HTTPS stand-in for the slice of the Azure ML REST API that ``azure-ai-ml`` calls.

It serves ARM-style workspace resources (workspace, computes, environments, components, code
assets, datastores, data assets, jobs), the workspace discovery document and the run history
API (``/history/v1.0/...``) that ``jobs.stream`` polls, plus plain-text log files. Every request
is recorded (``AmlStandin.requests``); routes it does not know answer 404 and are recorded with
``matched=False``.

Per-test configuration (``reset()`` clears it all):

* ``add_compute(name)``: ``GET {ws}/computes/{name}`` answers 200; other names 404.
* ``add_environment(name, version, image=...)``: version GETs and ``label="latest"`` resolve.
* ``script_job(name, statuses, logs=..., error=...)``: each read of the job's status (a job
  GET or a run-details GET) takes the next status of the list; the last one repeats. A job PUT
  without a script gets ``default_job_statuses`` (``["Completed"]``). ``children={step:
  status}`` adds child runs (``jobs.list(parent_job_name=...)``).

``jobs.stream(name)`` reads the status once with the job GET, then polls run details; it
downloads log files only on polls made while the run is in progress, so to see logs script at
least two in-progress statuses before the final one, e.g. ``["Running", "Running",
"Completed"]``. The SDK waits 2 s between polls (the ``fast_stream_polling`` fixture removes
that wait).

Code uploads: ``POST .../codes/{name}/versions/{v}/startPendingUpload`` creates a fresh
container in Azurite (if an ``azurite`` object was given) and answers with a real container
SAS URL, to which the SDK uploads with its own blob client. ``pending_uploads`` lists them.

Datastore URLs are built by the SDK as ``https://{account}.blob.{storage_endpoint}``, which
cannot point at Azurite; the stand-in cloud's ``storage_endpoint`` is ``standin.invalid`` so such
calls (``Data`` with a local path, logs of jobs with a ``default`` output) fail at once instead
of leaving the machine.

The server speaks HTTPS with a ``trustme`` certificate for 127.0.0.1; trust ``ca_cert_path``
(``connection_verify=`` on the client, or ``REQUESTS_CA_BUNDLE``).
"""

from __future__ import annotations

import copy
import json
import re
import ssl
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol
from urllib.parse import parse_qs, quote, unquote, urlsplit

import trustme

WS_PROVIDER = "Microsoft.MachineLearningServices"
DEFAULT_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
DEFAULT_RESOURCE_GROUP = "rg-standin"
DEFAULT_WORKSPACE = "ws-standin"
DEFAULT_LOCATION = "westeurope"
AML_RESOURCE_ID = "https://ml.local"
STORAGE_ENDPOINT = "standin.invalid"
STUDIO_HOST = "https://ml.azure.com"

JSON = dict[str, Any]


class BlobAccount(Protocol):
    """What the stand-in needs from Azurite (``tests.support.azurite.AzuriteBlob`` fits)."""

    @property
    def connection_string(self) -> str: ...
    @property
    def blob_endpoint(self) -> str: ...

    account_name: str
    account_key: str


@dataclass
class RecordedRequest:
    """One request as the stand-in saw it.

    ``path`` is the URL path, percent-decoded, without the query; ``rel`` is the same path
    relative to the workspace (``"{ws}/jobs/x"``, ``"/history/v1.0{ws}/runs/x/details"``).
    ``query`` maps each parameter to its first value. ``body`` is the parsed JSON body (or the
    text, or ``None``). ``status`` is the status code answered; ``matched`` is False for routes
    the stand-in does not know.
    """

    method: str
    path: str
    rel: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str]
    status: int = 0
    matched: bool = True

    @property
    def call(self) -> str:
        """``"METHOD rel"``, handy for asserting sequences."""
        return f"{self.method} {self.rel}"


@dataclass
class JobScript:
    statuses: list[str]
    logs: dict[str, str] = field(default_factory=dict)
    error: JSON | None = None
    children: dict[str, str] = field(default_factory=dict)
    reads: int = 0

    def next_status(self) -> str:
        status = self.statuses[min(self.reads, len(self.statuses) - 1)]
        self.reads += 1
        return status


@dataclass
class PendingUpload:
    code_name: str
    version: str
    container: str
    blob_uri: str
    sas_uri: str


@dataclass
class Response:
    status: int
    body: Any = None
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


class _NotFound(Exception):
    def __init__(self, message: str, code: str = "NotFound") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def _system_data(created_at: str | None = None) -> JSON:
    at = created_at or _now()
    return {
        "createdAt": at,
        "createdBy": "tester@kedro-azureml.local",
        "createdByType": "User",
        "lastModifiedAt": at,
        "lastModifiedBy": "tester@kedro-azureml.local",
        "lastModifiedByType": "User",
    }


def arm_error(status: int, message: str, code: str = "UserError", inner: str = "NotFound") -> JSON:
    """The error body shape Azure ML's ARM endpoints answer with."""
    return {
        "error": {
            "code": code,
            "severity": None,
            "message": message,
            "messageFormat": None,
            "messageParameters": None,
            "referenceCode": None,
            "detailsUri": None,
            "target": None,
            "details": [],
            "innerError": {"code": inner, "innerError": None},
            "debugInfo": None,
            "additionalInfo": None,
        },
        "correlation": {"operation": uuid.uuid4().hex, "request": uuid.uuid4().hex[:16]},
        "environment": DEFAULT_LOCATION,
        "location": DEFAULT_LOCATION,
        "time": _now(),
        "componentName": "standin",
        "statusCode": status,
    }


Handler = Callable[["RecordedRequest", "re.Match[str]"], Response]


class AmlStandin:
    """The stand-in server. Start with ``start()`` (or ``with``), stop with ``stop()``."""

    def __init__(
        self,
        *,
        azurite: BlobAccount | None = None,
        subscription_id: str = DEFAULT_SUBSCRIPTION,
        resource_group: str = DEFAULT_RESOURCE_GROUP,
        workspace_name: str = DEFAULT_WORKSPACE,
        location: str = DEFAULT_LOCATION,
        host: str = "127.0.0.1",
    ) -> None:
        self.azurite = azurite
        self.subscription_id = subscription_id
        self.resource_group = resource_group
        self.workspace_name = workspace_name
        self.location = location
        self.host = host
        self.port = 0
        self.workspace_guid = str(uuid.uuid5(uuid.NAMESPACE_URL, workspace_name))
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._tmp = tempfile.TemporaryDirectory(prefix="aml-standin-")
        self.ca_cert_path = Path(self._tmp.name) / "standin-ca.pem"
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._build_routes()
        self.reset()

    # ------------------------------------------------------------------ identity / URLs
    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}"

    @property
    def ws_path(self) -> str:
        """``/subscriptions/{sub}/resourceGroups/{rg}/providers/.../workspaces/{ws}``."""
        return (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
            f"/providers/{WS_PROVIDER}/workspaces/{self.workspace_name}"
        )

    @property
    def cloud_name(self) -> str:
        """One SDK cloud name per stand-in port (the SDK registers a name once per process)."""
        return f"KedroAzureMLStandin{self.port}"

    @property
    def cloud_metadata(self) -> dict[str, str]:
        url = self.url + "/"
        return {
            "resource_manager": url,
            "active_directory": url,
            "azure_portal": url,
            "aml_resource_id": AML_RESOURCE_ID,
            # The SDK builds datastore URLs as https://{account}.blob.{storage_endpoint}; a
            # reserved .invalid name makes such calls fail at once instead of leaving the
            # machine. Code uploads don't use it: they go to the SAS URL (Azurite).
            "storage_endpoint": STORAGE_ENDPOINT,
            "registry_discovery_endpoint": url,
        }

    def studio_url(self, job_name: str) -> str:
        return f"{STUDIO_HOST}/runs/{job_name}?wsid={quote(self.ws_path, safe='/')}"

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> AmlStandin:
        if self._server is not None:
            return self
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1", "localhost")
        ca.cert_pem.write_to_path(str(self.ca_cert_path))
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(ctx)

        standin = self

        class _Handler(_RequestHandler):
            owner = standin

        server = ThreadingHTTPServer((self.host, 0), _Handler)
        server.daemon_threads = True
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
        self._server = server
        self.port = int(server.server_address[1])
        self._thread = threading.Thread(
            target=server.serve_forever, name=f"aml-standin-{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self._tmp.cleanup()

    def __enter__(self) -> AmlStandin:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ configuration
    def reset(self) -> None:
        """Forget recorded requests and every configured or created resource."""
        with self._lock:
            self.requests: list[RecordedRequest] = []
            self.computes: dict[str, JSON] = {}
            self.environments: dict[str, dict[str, JSON]] = {}
            self.components: dict[str, dict[str, JSON]] = {}
            self.codes: dict[str, dict[str, JSON]] = {}
            self.data_assets: dict[str, dict[str, JSON]] = {}
            self.jobs: dict[str, JSON] = {}
            self.job_scripts: dict[str, JobScript] = {}
            self.pending_uploads: list[PendingUpload] = []
            self.default_job_statuses: list[str] = ["Completed"]
            self._clock = datetime(2024, 1, 1, tzinfo=timezone.utc)

    def _tick(self) -> str:
        """Strictly increasing creation times, so "latest" is well defined."""
        self._clock += timedelta(seconds=1)
        return self._clock.isoformat()

    def add_compute(
        self,
        name: str,
        *,
        compute_type: str = "AmlCompute",
        vm_size: str = "STANDARD_DS3_V2",
        max_nodes: int = 4,
    ) -> JSON:
        body = {
            "id": f"{self.ws_path}/computes/{name}",
            "name": name,
            "type": f"{WS_PROVIDER}/workspaces/computes",
            "location": self.location,
            "tags": {},
            "properties": {
                "computeType": compute_type,
                "computeLocation": self.location,
                "description": None,
                "provisioningState": "Succeeded",
                "createdOn": _now(),
                "modifiedOn": _now(),
                "isAttachedCompute": False,
                "disableLocalAuth": True,
                "properties": {
                    "vmSize": vm_size,
                    "vmPriority": "Dedicated",
                    "osType": "Linux",
                    "scaleSettings": {
                        "maxNodeCount": max_nodes,
                        "minNodeCount": 0,
                        "nodeIdleTimeBeforeScaleDown": "PT2M",
                    },
                    "allocationState": "Steady",
                    "currentNodeCount": 0,
                    "targetNodeCount": 0,
                    "remoteLoginPortPublicAccess": "Disabled",
                    "enableNodePublicIp": True,
                },
            },
        }
        with self._lock:
            self.computes[name] = body
        return body

    def add_environment(
        self,
        name: str,
        version: str,
        *,
        image: str = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest",
        conda_file: str | None = None,
        description: str | None = None,
    ) -> JSON:
        props: JSON = {
            "description": description,
            "tags": {},
            "properties": {},
            "isArchived": False,
            "isAnonymous": False,
            "environmentType": "UserCreated",
            "image": image,
            "osType": "Linux",
            "autoRebuild": "Disabled",
            "provisioningState": "Succeeded",
        }
        if conda_file is not None:
            props["condaFile"] = conda_file
        return self._store_version(self.environments, "environments", name, version, props)

    def script_job(
        self,
        name: str,
        statuses: Iterable[str],
        *,
        logs: dict[str, str] | None = None,
        error: JSON | str | None = None,
        children: dict[str, str] | None = None,
    ) -> JobScript:
        """Script a job's status reads. ``logs`` maps run-history log names
        (``"logs/azureml/executionlogs.txt"`` for pipelines, ``"user_logs/std_log.txt"``) to
        text. ``error`` (a message or a ``{"code", "message"}`` dict) goes into the run
        details of a Failed run. ``children`` maps step names to fixed statuses: they are the
        child runs that ``jobs.list(parent_job_name=name)`` returns (run ids:
        ``child_run_id(name, step)``)."""
        status_list = list(statuses)
        if not status_list:
            raise ValueError("statuses must not be empty")
        if isinstance(error, str):
            error = {"code": "UserError", "message": error}
        script = JobScript(
            statuses=status_list,
            logs=dict(logs or {}),
            error=error,
            children=dict(children or {}),
        )
        with self._lock:
            self.job_scripts[name] = script
        return script

    @staticmethod
    def child_run_id(job_name: str, step: str) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{job_name}/{step}"))

    # ------------------------------------------------------------------ inspection
    def calls(self) -> list[str]:
        """Every request as ``"METHOD rel"`` in arrival order."""
        with self._lock:
            return [r.call for r in self.requests]

    def find(self, method: str | None = None, pattern: str = "") -> list[RecordedRequest]:
        """Requests whose method matches and whose ``rel`` path matches ``pattern`` (regex,
        searched)."""
        rx = re.compile(pattern)
        with self._lock:
            return [
                r
                for r in self.requests
                if (method is None or r.method == method.upper()) and rx.search(r.rel)
            ]

    @property
    def unmatched(self) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if not r.matched]

    # ------------------------------------------------------------------ routing
    def _build_routes(self) -> None:
        ws = r"/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.MachineLearningServices/workspaces/[^/]+"
        name = r"(?P<name>[^/]+)"
        ver = r"(?P<version>[^/]+)"
        add = self._routes.append
        add(("GET", re.compile(ws), self._get_workspace))
        add(("GET", re.compile(r"/discovery"), self._get_discovery))
        add(("GET", re.compile(ws + r"/computes/" + name), self._get_compute))
        for plural in ("environments", "components", "codes", "data"):
            add(("GET", re.compile(ws + "/" + plural + "/" + name), self._get_container(plural)))
            base = ws + "/" + plural + "/" + name + "/versions"
            add(("GET", re.compile(base), self._list_versions(plural)))
            add(("GET", re.compile(base + "/" + ver), self._get_version(plural)))
            add(("PUT", re.compile(base + "/" + ver), self._put_version(plural)))
        add(
            (
                "POST",
                re.compile(ws + r"/codes/" + name + "/versions/" + ver + "/startPendingUpload"),
                self._start_pending_upload,
            )
        )
        add(("GET", re.compile(ws + r"/datastores/" + name), self._get_datastore))
        add(("GET", re.compile(ws + r"/datastores"), self._list_datastores))
        add(("POST", re.compile(ws + r"/datastores/" + name + "/listSecrets"), self._secrets))
        add(("PUT", re.compile(ws + r"/jobs/" + name), self._put_job))
        add(("GET", re.compile(ws + r"/jobs/" + name), self._get_job))
        add(("GET", re.compile(ws + r"/jobs"), self._list_jobs))
        add(("POST", re.compile(ws + r"/jobs/" + name + "/cancel"), self._cancel_job))
        add(
            (
                "GET",
                re.compile(
                    r"/history/v1\.0" + ws + r"/(?:experiments/[^/]+/)?runs/" + name + "/details"
                ),
                self._run_details,
            )
        )
        add(("GET", re.compile(r"/history/v1\.0" + ws + r"/runs/" + name), self._run))
        add(
            (
                "GET",
                re.compile(r"/history/v1\.0" + ws + r"/runs/" + name + "/children"),
                self._run_children,
            )
        )
        add(("GET", re.compile(r"/standin-ops/(?P<op>[^/]+)"), self._get_operation))
        add(("GET", re.compile(r"/standin-logs/(?P<job>[^/]+)/(?P<log>.+)"), self._get_log))

    def _dispatch(self, req: RecordedRequest) -> Response:
        with self._lock:
            self.requests.append(req)
            for method, rx, handler in self._routes:
                if method != req.method:
                    continue
                m = rx.fullmatch(req.path)
                if m is None:
                    continue
                try:
                    resp = handler(req, m)
                except _NotFound as exc:
                    resp = Response(404, arm_error(404, exc.message, inner=exc.code))
                req.status = resp.status
                return resp
            req.matched = False
            req.status = 404
            return Response(
                404,
                arm_error(404, f"The stand-in has no route for {req.method} {req.path}"),
            )

    def _rel(self, path: str) -> str:
        return path.replace(self.ws_path, "{ws}")

    # ------------------------------------------------------------------ resources
    def _workspace_body(self) -> JSON:
        sub_rg = f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
        return {
            "id": self.ws_path,
            "name": self.workspace_name,
            "type": f"{WS_PROVIDER}/workspaces",
            "location": self.location,
            "tags": {},
            "kind": "Default",
            "sku": {"name": "Basic", "tier": "Basic"},
            "identity": {
                "type": "SystemAssigned",
                "principalId": str(uuid.UUID(int=1)),
                "tenantId": str(uuid.UUID(int=2)),
            },
            "systemData": _system_data("2024-01-01T00:00:00+00:00"),
            "properties": {
                "friendlyName": self.workspace_name,
                "description": "kedro-azureml test stand-in",
                "workspaceId": self.workspace_guid,
                "storageAccount": (
                    f"{sub_rg}/providers/Microsoft.Storage/storageAccounts/"
                    f"{self.azurite.account_name if self.azurite else 'standinstorage'}"
                ),
                "keyVault": f"{sub_rg}/providers/Microsoft.Keyvault/vaults/standinkv",
                "applicationInsights": f"{sub_rg}/providers/microsoft.insights/components/standinai",
                "containerRegistry": (
                    f"{sub_rg}/providers/Microsoft.ContainerRegistry/registries/standinacr"
                ),
                "hbiWorkspace": False,
                "provisioningState": "Succeeded",
                "publicNetworkAccess": "Enabled",
                "v1LegacyMode": False,
                "discoveryUrl": f"{self.url}/discovery",
                "mlFlowTrackingUri": (
                    f"azureml://{self.location}.api.azureml.ms/mlflow/v1.0{self.ws_path}"
                ),
                "tenantId": str(uuid.UUID(int=2)),
                "storageHnsEnabled": False,
                "privateLinkCount": 0,
                "allowPublicAccessWhenBehindVnet": False,
                "enableDataIsolation": False,
                "notebookInfo": None,
                "serviceProvisionedResourceGroup": None,
            },
        }

    def _get_workspace(self, req: RecordedRequest, m: re.Match[str]) -> Response:
        if req.path != self.ws_path:
            raise _NotFound(f"Workspace {req.path} not found", "WorkspaceNotFound")
        return Response(200, self._workspace_body())

    def _get_discovery(self, req: RecordedRequest, m: re.Match[str]) -> Response:
        services = [
            "api",
            "catalog",
            "experimentation",
            "gallery",
            "history",
            "hyperdrive",
            "labeling",
            "modelmanagement",
            "pipelines",
            "studio",
        ]
        body = {s: self.url for s in services}
        body["studio"] = STUDIO_HOST
        return Response(200, body)

    def _get_compute(self, req: RecordedRequest, m: re.Match[str]) -> Response:
        name = m["name"]
        if name not in self.computes:
            raise _NotFound(
                f"Compute {name} not found in workspace {self.workspace_name}", "ComputeNotFound"
            )
        return Response(200, self.computes[name])

    def _store_version(
        self,
        store: dict[str, dict[str, JSON]],
        plural: str,
        name: str,
        version: str,
        properties: JSON,
    ) -> JSON:
        with self._lock:
            created = self._tick()
            props = copy.deepcopy(properties)
            props.setdefault("provisioningState", "Succeeded")
            body = {
                "id": f"{self.ws_path}/{plural}/{name}/versions/{version}",
                "name": version,
                "type": f"{WS_PROVIDER}/workspaces/{plural}/versions",
                "properties": props,
                "systemData": _system_data(created),
            }
            store.setdefault(name, {})[version] = body
            return body

    def _store_for(self, plural: str) -> dict[str, dict[str, JSON]]:
        return {
            "environments": self.environments,
            "components": self.components,
            "codes": self.codes,
            "data": self.data_assets,
        }[plural]

    def _list_versions(self, plural: str) -> Handler:
        def handler(req: RecordedRequest, m: re.Match[str]) -> Response:
            store = self._store_for(plural)
            if plural == "codes" and "hash" in req.query:
                # The service looks up code by content hash across all code names.
                wanted = req.query["hash"]
                items = [
                    body
                    for versions in store.values()
                    for body in versions.values()
                    if body["properties"].get("properties", {}).get("hash_sha256") == wanted
                ]
            else:
                items = list(store.get(m["name"], {}).values())
            items.sort(key=lambda b: b["systemData"]["createdAt"], reverse=True)
            order = req.query.get("$orderBy", "").lower()
            if order and "desc" not in order:
                items.reverse()
            if "$top" in req.query:
                items = items[: int(req.query["$top"])]
            return Response(200, {"value": items, "nextLink": None})

        return handler

    def _get_container(self, plural: str) -> Handler:
        """The asset container (``{ws}/data/{name}``): ``latestVersion`` is the newest one."""

        def handler(req: RecordedRequest, m: re.Match[str]) -> Response:
            versions = self._store_for(plural).get(m["name"], {})
            if not versions:
                raise _NotFound(
                    f"{plural} {m['name']} not found in workspace {self.workspace_name}"
                )
            latest = max(versions.values(), key=lambda b: b["systemData"]["createdAt"])
            numeric = [int(v) for v in versions if v.isdigit()]
            props: JSON = {
                "description": None,
                "tags": {},
                "properties": {},
                "isArchived": False,
                "latestVersion": latest["name"],
                "nextVersion": str(max(numeric) + 1) if numeric else "1",
            }
            data_type = latest["properties"].get("dataType")
            if data_type:
                props["dataType"] = data_type
            return Response(
                200,
                {
                    "id": f"{self.ws_path}/{plural}/{m['name']}",
                    "name": m["name"],
                    "type": f"{WS_PROVIDER}/workspaces/{plural}",
                    "properties": props,
                    "systemData": _system_data(latest["systemData"]["createdAt"]),
                },
            )

        return handler

    def _get_version(self, plural: str) -> Handler:
        def handler(req: RecordedRequest, m: re.Match[str]) -> Response:
            versions = self._store_for(plural).get(m["name"], {})
            if m["version"] not in versions:
                raise _NotFound(
                    f"{plural} {m['name']}:{m['version']} not found in workspace "
                    f"{self.workspace_name}"
                )
            return Response(200, versions[m["version"]])

        return handler

    def _put_version(self, plural: str) -> Handler:
        def handler(req: RecordedRequest, m: re.Match[str]) -> Response:
            body = req.body if isinstance(req.body, dict) else {}
            props = copy.deepcopy(body.get("properties", {}))
            if plural == "environments":
                props.setdefault("environmentType", "UserCreated")
                props.setdefault("osType", "Linux")
            stored = self._store_version(
                self._store_for(plural), plural, m["name"], m["version"], props
            )
            return Response(201, stored)

        return handler

    def _start_pending_upload(self, req: RecordedRequest, m: re.Match[str]) -> Response:
        if self.azurite is None:
            return Response(
                500,
                arm_error(500, "the stand-in was started without Azurite", "InternalError", "NA"),
            )
        from azure.storage.blob import (
            BlobServiceClient,
            ContainerSasPermissions,
            generate_container_sas,
        )

        container = f"code-{uuid.uuid4().hex}"
        BlobServiceClient.from_connection_string(self.azurite.connection_string).create_container(
            container
        )
        sas = generate_container_sas(
            account_name=self.azurite.account_name,
            container_name=container,
            account_key=self.azurite.account_key,
            permission=ContainerSasPermissions(
                read=True, add=True, create=True, write=True, delete=True, list=True
            ),
            expiry=datetime.now(timezone.utc) + timedelta(hours=2),
        )
        blob_uri = f"{self.azurite.blob_endpoint}/{container}"
        sas_uri = f"{blob_uri}?{sas}"
        self.pending_uploads.append(
            PendingUpload(m["name"], m["version"], container, blob_uri, sas_uri)
        )
        sub_rg = f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
        return Response(
            200,
            {
                "blobReferenceForConsumption": {
                    "blobUri": blob_uri,
                    "storageAccountArmId": (
                        f"{sub_rg}/providers/Microsoft.Storage/storageAccounts/"
                        f"{self.azurite.account_name}"
                    ),
                    "credential": {"credentialType": "SAS", "sasUri": sas_uri},
                },
                "pendingUploadId": str(uuid.uuid4()),
                "pendingUploadType": "TemporaryBlobReference",
            },
        )

    def _datastore_body(self, name: str) -> JSON:
        account = self.azurite.account_name if self.azurite else "standinstorage"
        return {
            "id": f"{self.ws_path}/datastores/{name}",
            "name": name,
            "type": f"{WS_PROVIDER}/workspaces/datastores",
            "systemData": _system_data("2024-01-01T00:00:00+00:00"),
            "properties": {
                "description": None,
                "tags": {},
                "properties": {},
                "isDefault": name == "workspaceblobstore",
                "credentials": {"credentialsType": "AccountKey"},
                "datastoreType": "AzureBlob",
                "accountName": account,
                "containerName": f"azureml-blobstore-{self.workspace_guid}",
                "endpoint": STORAGE_ENDPOINT,
                "protocol": "https",
                "serviceDataAccessAuthIdentity": "WorkspaceSystemAssignedIdentity",
            },
        }

    def _get_datastore(self, req: RecordedRequest, m: re.Match[str]) -> Response:
        if m["name"] not in ("workspaceblobstore", "workspaceartifactstore"):
            raise _NotFound(f"Datastore {m['name']} not found", "DatastoreNotFound")
        return Response(200, self._datastore_body(m["name"]))

    def _list_datastores(self, req: RecordedRequest, m: re.Match[str]) -> Response:
        names = ["workspaceblobstore", "workspaceartifactstore"]
        if req.query.get("isDefault", "").lower() == "true":
            names = names[:1]
        return Response(200, {"value": [self._datastore_body(n) for n in names]})

    def _secrets(self, req: RecordedRequest, m: re.Match[str]) -> Response:
        key = self.azurite.account_key if self.azurite else "c3RhbmRpbg=="
        return Response(200, {"secretsType": "AccountKey", "key": key})

    # ------------------------------------------------------------------ jobs
    def _script(self, name: str) -> JobScript:
        if name not in self.job_scripts:
            self.job_scripts[name] = JobScript(statuses=list(self.default_job_statuses))
        return self.job_scripts[name]

    def _synth_job(self, name: str) -> JSON:
        """A job body for a scripted job that was never PUT."""
        return {
            "properties": {
                "jobType": "Pipeline",
                "displayName": name,
                "experimentName": "standin",
                "computeId": None,
                "inputs": {},
                "outputs": {},
                "jobs": {},
                "settings": {},
                "properties": {},
                "tags": {},
                "isArchived": False,
            }
        }

    def _job_response(self, name: str, status: str) -> JSON:
        body = copy.deepcopy(self.jobs.get(name) or self._synth_job(name))
        props = body.setdefault("properties", {})
        props["status"] = status
        props["services"] = {
            "Tracking": {
                "jobServiceType": "Tracking",
                "endpoint": f"azureml://{self.location}.api.azureml.ms/mlflow/v1.0{self.ws_path}",
            },
            "Studio": {"jobServiceType": "Studio", "endpoint": self.studio_url(name)},
        }
        props.setdefault("experimentName", "Default")
        body.update(
            {
                "id": f"{self.ws_path}/jobs/{name}",
                "name": name,
                "type": f"{WS_PROVIDER}/workspaces/jobs",
                "systemData": body.get("systemData") or _system_data(),
            }
        )
        return body

    def _put_job(self, req: RecordedRequest, m: re.Match[str]) -> Response:
        name = m["name"]
        body = copy.deepcopy(req.body) if isinstance(req.body, dict) else {}
        body["systemData"] = _system_data(self._tick())
        self.jobs[name] = body
        self._script(name)
        return Response(201, self._job_response(name, "NotStarted"))

    def _get_job(self, req: RecordedRequest, m: re.Match[str]) -> Response:
        name = m["name"]
        if name not in self.jobs and name not in self.job_scripts:
            raise _NotFound(f"Job {name} not found", "JobNotFound")
        return Response(200, self._job_response(name, self._script(name).next_status()))

    def _list_jobs(self, req: RecordedRequest, m: re.Match[str]) -> Response:
        items = []
        for name in self.jobs:
            script = self._script(name)
            status = script.statuses[max(0, min(script.reads, len(script.statuses)) - 1)]
            items.append(self._job_response(name, status))
        return Response(200, {"value": items, "nextLink": None})

    def _cancel_job(self, req: RecordedRequest, m: re.Match[str]) -> Response:
        name = m["name"]
        if name not in self.jobs and name not in self.job_scripts:
            raise _NotFound(f"Job {name} not found", "JobNotFound")
        self.job_scripts[name] = JobScript(statuses=["CancelRequested", "Canceled"])
        # Like the service: 202 plus a Location to poll; polling it says the cancel is done.
        return Response(202, None, headers={"Location": f"{self.url}/standin-ops/cancel-{name}"})

    def _get_operation(self, req: RecordedRequest, m: re.Match[str]) -> Response:
        return Response(200, None)

    def _run_details_body(self, name: str) -> JSON:
        script = self._script(name)
        status = script.next_status()
        job = self.jobs.get(name, {}).get("properties", {})
        body: JSON = {
            "runId": name,
            "runUuid": str(uuid.uuid5(uuid.NAMESPACE_URL, name)),
            "parentRunUuid": None,
            "rootRunUuid": str(uuid.uuid5(uuid.NAMESPACE_URL, name)),
            "target": job.get("computeId"),
            "status": status,
            "startTimeUtc": "2024-01-01T00:00:10+00:00",
            "endTimeUtc": (
                "2024-01-01T00:05:00+00:00"
                if status in ("Completed", "Failed", "Canceled")
                else None
            ),
            "warnings": [],
            "error": None,
            "properties": {},
            "inputDatasets": [],
            "outputDatasets": [],
            "runDefinition": None,
            "logFiles": {
                log: f"{self.url}/standin-logs/{name}/{quote(log)}" for log in script.logs
            },
        }
        if status == "Failed":
            err = script.error or {"code": "UserError", "message": f"Job {name} failed."}
            body["error"] = {"error": err, "time": _now(), "componentName": "standin"}
        return body

    def _run_details(self, req: RecordedRequest, m: re.Match[str]) -> Response:
        name = m["name"]
        if name not in self.jobs and name not in self.job_scripts:
            raise _NotFound(f"Run {name} not found", "RunNotFound")
        return Response(200, self._run_details_body(name))

    def _run(self, req: RecordedRequest, m: re.Match[str]) -> Response:
        body = self._run_details_body(m["name"])
        body.pop("logFiles")
        return Response(200, body)

    def _run_children(self, req: RecordedRequest, m: re.Match[str]) -> Response:
        name = m["name"]
        script = self.job_scripts.get(name)
        if script is None and name not in self.jobs:
            raise _NotFound(f"Run {name} not found", "RunNotFound")
        children = script.children if script else {}
        runs = [
            {
                "runId": self.child_run_id(name, step),
                "parentRunId": name,
                "rootRunId": name,
                "displayName": step,
                "name": step,
                "status": status,
                "runType": "azureml.StepRun",
                "experimentId": str(uuid.uuid5(uuid.NAMESPACE_URL, "experiment")),
                "createdUtc": "2024-01-01T00:00:05+00:00",
                "createdBy": {"userName": "tester@kedro-azureml.local"},
                "properties": {"azureml.nodeid": uuid.uuid5(uuid.NAMESPACE_URL, step).hex[:8]},
                "tags": {},
                "compute": {
                    "target": self.jobs.get(name, {}).get("properties", {}).get("computeId")
                },
            }
            for step, status in children.items()
        ]
        top = int(req.query.get("$top") or len(runs) or 1)
        return Response(200, {"value": runs[:top], "continuationToken": None, "nextLink": None})

    def _get_log(self, req: RecordedRequest, m: re.Match[str]) -> Response:
        script = self.job_scripts.get(m["job"])
        text = script.logs.get(m["log"]) if script else None
        if text is None:
            raise _NotFound(f"log {m['log']} of {m['job']} not found")
        return Response(200, text.encode(), content_type="text/plain; charset=utf-8")


class _RequestHandler(BaseHTTPRequestHandler):
    owner: AmlStandin
    protocol_version = "HTTP/1.1"
    server_version = "AmlStandin/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def _handle(self) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body: Any = None
        if raw:
            text = raw.decode("utf-8", errors="replace")
            try:
                body = json.loads(text)
            except ValueError:
                body = text
        path = unquote(split.path)
        query = {k: v[0] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        req = RecordedRequest(
            method=self.command,
            path=path,
            rel=self.owner._rel(path),
            query=query,
            body=body,
            headers={k: v for k, v in self.headers.items()},
        )
        resp = self.owner._dispatch(req)
        if resp.body is None:
            payload = b""
        elif isinstance(resp.body, bytes):
            payload = resp.body
        else:
            payload = json.dumps(resp.body).encode()
        self.send_response(resp.status)
        if payload:
            self.send_header("Content-Type", resp.content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-ms-request-id", str(uuid.uuid4()))
        for key, value in resp.headers.items():
            self.send_header(key, value)
        self.end_headers()
        if payload:
            self.wfile.write(payload)

    do_GET = _handle
    do_PUT = _handle
    do_POST = _handle
    do_DELETE = _handle
    do_PATCH = _handle


# ---------------------------------------------------------------------- appended: datastore PUT
# ``ml_client.datastores.create_or_update`` sends ``PUT {ws}/datastores/{name}``; the stand-in
# answers 200 with the body it got (secrets dropped, as the service does), plus id/name/type.
# Nothing is stored: tests read the request from ``AmlStandin.requests``. Added by extending
# the route table after the existing routes, so no existing route changes.
def _put_datastore(self: AmlStandin, req: RecordedRequest, m: re.Match[str]) -> Response:
    body = copy.deepcopy(req.body) if isinstance(req.body, dict) else {}
    props = body.setdefault("properties", {})
    credentials = props.get("credentials") or {"credentialsType": "None"}
    props["credentials"] = {"credentialsType": credentials.get("credentialsType", "None")}
    props.setdefault("endpoint", STORAGE_ENDPOINT)
    props.setdefault("protocol", "https")
    props.setdefault("isDefault", False)
    body.update(
        {
            "id": f"{self.ws_path}/datastores/{m['name']}",
            "name": m["name"],
            "type": f"{WS_PROVIDER}/workspaces/datastores",
            "systemData": _system_data(),
        }
    )
    return Response(200, body)


_build_routes_before_datastore_put = AmlStandin._build_routes


def _build_routes_with_datastore_put(self: AmlStandin) -> None:
    _build_routes_before_datastore_put(self)
    ws = r"/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.MachineLearningServices/workspaces/[^/]+"
    self._routes.append(
        (
            "PUT",
            re.compile(ws + r"/datastores/(?P<name>[^/]+)"),
            lambda req, m: _put_datastore(self, req, m),
        )
    )


AmlStandin._build_routes = _build_routes_with_datastore_put  # type: ignore[method-assign]


# ------------------------------------------------------------- appended: script the next job
# A job submitted by a subprocess gets a name the test cannot know in advance, so
# ``script_next_job(...)`` (same arguments as ``script_job`` minus the name) scripts whichever
# job is PUT next. ``reset()`` forgets it. Jobs PUT without it behave as before.
def _script_next_job(
    self: AmlStandin,
    statuses: Iterable[str],
    *,
    logs: dict[str, str] | None = None,
    error: JSON | str | None = None,
    children: dict[str, str] | None = None,
) -> None:
    self._next_job_script = {
        "statuses": list(statuses),
        "logs": logs,
        "error": error,
        "children": children,
    }


_put_job_before_next_script = AmlStandin._put_job
_reset_before_next_script = AmlStandin.reset


def _put_job_with_next_script(self: AmlStandin, req: RecordedRequest, m: re.Match[str]) -> Response:
    template = getattr(self, "_next_job_script", None)
    if template is not None and m["name"] not in self.job_scripts:
        self._next_job_script = None
        self.script_job(m["name"], **template)
    return _put_job_before_next_script(self, req, m)


def _reset_with_next_script(self: AmlStandin) -> None:
    _reset_before_next_script(self)
    self._next_job_script = None


AmlStandin.script_next_job = _script_next_job  # type: ignore[attr-defined]
AmlStandin._put_job = _put_job_with_next_script  # type: ignore[method-assign]
AmlStandin.reset = _reset_with_next_script  # type: ignore[method-assign]


# ------------------------------------------------------------------ appended: schedules
# ``ml_client.schedules``: ``PUT {ws}/schedules/{name}`` (create or update, a long-running
# operation answered at once: 201 when new, 200 when it existed, ``provisioningState``
# Succeeded), ``GET {ws}/schedules/{name}``, ``GET {ws}/schedules?listViewType=...``
# (EnabledOnly, DisabledOnly or All) and ``DELETE {ws}/schedules/{name}`` (200). Enable and
# disable are a GET then a PUT with ``isEnabled`` changed, as the SDK does them. Stored in
# ``AmlStandin.schedules`` (name -> the body answered); ``reset()`` forgets them.
def _schedule_body(self: AmlStandin, name: str, body: JSON, created: str | None = None) -> JSON:
    stored = copy.deepcopy(body)
    props = stored.setdefault("properties", {})
    props["provisioningState"] = "Succeeded"
    props.setdefault("isEnabled", True)
    stored.update(
        {
            "id": f"{self.ws_path}/schedules/{name}",
            "name": name,
            "type": f"{WS_PROVIDER}/workspaces/schedules",
            "systemData": _system_data(created),
        }
    )
    return stored


def _put_schedule(self: AmlStandin, req: RecordedRequest, m: re.Match[str]) -> Response:
    name = m["name"]
    existed = name in self.schedules
    created = self.schedules[name]["systemData"]["createdAt"] if existed else self._tick()
    body = req.body if isinstance(req.body, dict) else {}
    self.schedules[name] = _schedule_body(self, name, body, created)
    return Response(200 if existed else 201, self.schedules[name])


def _get_schedule(self: AmlStandin, req: RecordedRequest, m: re.Match[str]) -> Response:
    if m["name"] not in self.schedules:
        raise _NotFound(f"Schedule {m['name']} not found", "ScheduleNotFound")
    return Response(200, self.schedules[m["name"]])


def _list_schedules(self: AmlStandin, req: RecordedRequest, m: re.Match[str]) -> Response:
    view = req.query.get("listViewType", "EnabledOnly").lower()
    items = [
        body
        for body in self.schedules.values()
        if view == "all" or body["properties"]["isEnabled"] == (view == "enabledonly")
    ]
    return Response(200, {"value": items, "nextLink": None})


def _delete_schedule(self: AmlStandin, req: RecordedRequest, m: re.Match[str]) -> Response:
    if self.schedules.pop(m["name"], None) is None:
        return Response(204, None)
    return Response(200, None)


_build_routes_before_schedules = AmlStandin._build_routes
_reset_before_schedules = AmlStandin.reset


def _build_routes_with_schedules(self: AmlStandin) -> None:
    _build_routes_before_schedules(self)
    ws = r"/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.MachineLearningServices/workspaces/[^/]+"
    one = re.compile(ws + r"/schedules/(?P<name>[^/]+)")
    self._routes.append(("PUT", one, lambda req, m: _put_schedule(self, req, m)))
    self._routes.append(("GET", one, lambda req, m: _get_schedule(self, req, m)))
    self._routes.append(("DELETE", one, lambda req, m: _delete_schedule(self, req, m)))
    self._routes.append(
        ("GET", re.compile(ws + r"/schedules"), lambda req, m: _list_schedules(self, req, m))
    )


def _reset_with_schedules(self: AmlStandin) -> None:
    _reset_before_schedules(self)
    self.schedules: dict[str, JSON] = {}


AmlStandin._build_routes = _build_routes_with_schedules  # type: ignore[method-assign]
AmlStandin.reset = _reset_with_schedules  # type: ignore[method-assign]
