"""A fake Azure credential and an ``MLClient`` factory pointed at the local stand-in.

``FakeCredential`` answers ``get_token`` with an unsigned (``{"alg": "none"}``) JWT. Its ``aud``
is the resource of the scope asked for (scope without ``/.default``), so a token asked for
``https://ml.local/.default`` carries ``aud == "https://ml.local"``, the stand-in cloud's
``aml_resource_id`` (the SDK checks exactly that before submitting pipeline jobs with code).

``make_ml_client(standin)`` builds a real ``azure.ai.ml.MLClient`` with the public
``cloud=``/``cloud_metadata=`` arguments.

About the SDK's cloud registry (it lives in the process, not in the client):

* a cloud name can be registered only once per process; registering it again is silently
  ignored and the FIRST metadata wins. The stand-in therefore names its cloud after its port
  (``AmlStandin.cloud_name`` is ``KedroAzureMLStandin<port>``): one stand-in per test session
  means one registration, and a second stand-in (another port) gets another name.
* ``MLClient(...)`` also sets the environment variable ``AZUREML_CURRENT_CLOUD`` to that cloud
  name, and the SDK reads it again later (for example for the JWT ``aud`` check), so it must
  stay set while the client is used. The ``aml_standin`` fixture in ``tests/conftest.py``
  restores the variable after each test.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import TYPE_CHECKING, Any

from azure.core.credentials import AccessToken

if TYPE_CHECKING:
    from azure.ai.ml import MLClient

    from .aml_standin import AmlStandin

TENANT_ID = "00000000-0000-0000-0000-00000000aaaa"
OBJECT_ID = "00000000-0000-0000-0000-00000000bbbb"


def _b64url(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def make_unsigned_jwt(claims: dict[str, Any]) -> str:
    """``header.payload.`` with ``{"alg": "none"}``: decodes without signature checking."""
    return f"{_b64url({'alg': 'none', 'typ': 'JWT'})}.{_b64url(claims)}."


def _resource_of(scope: str) -> str:
    return scope.removesuffix("/.default").rstrip("/")


class FakeCredential:
    """Any object with ``get_token`` is a credential to azure-core; this one never fails.

    ``scopes_asked`` records the scopes of every ``get_token`` call, in order.
    """

    def __init__(
        self,
        *,
        tenant_id: str = TENANT_ID,
        object_id: str = OBJECT_ID,
        lifetime_s: int = 3600,
    ) -> None:
        self.tenant_id = tenant_id
        self.object_id = object_id
        self.lifetime_s = lifetime_s
        self.scopes_asked: list[tuple[str, ...]] = []

    def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        self.scopes_asked.append(tuple(scopes))
        now = int(time.time())
        expires = now + self.lifetime_s
        token = make_unsigned_jwt(
            {
                "aud": _resource_of(scopes[0]) if scopes else "",
                "iss": f"https://sts.local/{self.tenant_id}/",
                "iat": now,
                "nbf": now,
                "exp": expires,
                "tid": tenant_id or self.tenant_id,
                "oid": self.object_id,
                "sub": self.object_id,
                "upn": "tester@kedro-azureml.local",
                "appid": str(uuid.UUID(int=0)),
            }
        )
        return AccessToken(token, expires)

    def close(self) -> None:
        """Credentials may be closed by clients; nothing to release."""


def make_ml_client(
    standin: AmlStandin,
    credential: Any | None = None,
    **kwargs: Any,
) -> MLClient:
    """A real ``MLClient`` talking to ``standin`` over HTTPS, with no retries and no telemetry.

    Extra ``kwargs`` go to ``MLClient`` (they override the defaults set here).
    """
    from azure.ai.ml import MLClient

    options: dict[str, Any] = {
        "cloud": standin.cloud_name,
        "cloud_metadata": standin.cloud_metadata,
        "enable_telemetry": False,
        "show_progress": False,
        "retry_total": 0,
        "connection_verify": str(standin.ca_cert_path),
    }
    options.update(kwargs)
    return MLClient(
        credential or FakeCredential(),
        subscription_id=standin.subscription_id,
        resource_group_name=standin.resource_group,
        workspace_name=standin.workspace_name,
        **options,
    )
