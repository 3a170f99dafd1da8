"""Signing in to Azure for ``kedro azureml run``: fail fast, and say what to do.

``DefaultAzureCredential`` tries, in order, environment variables (a service principal),
workload and managed identity, and the Azure CLI's login. We ask it for a token once, before
anything else talks to Azure, so a missing login is one clear message instead of a stack of
retries. A browser login is offered only to a person at a terminal, never in CI.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

from kedro_azureml.errors import KedroAzureMLError

logger = logging.getLogger(__name__)

MANAGEMENT_SCOPE = "https://management.azure.com/.default"
# Variables CI systems set; a browser login there would wait forever for nobody.
CI_ENV_VARS = ("CI", "TF_BUILD", "GITHUB_ACTIONS", "GITLAB_CI", "JENKINS_URL", "BUILD_BUILDID")

SIGN_IN_HELP = (
    "Sign in with `az login` (then `az account set -s <subscription-id>`), or set "
    "AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET for a service principal, or run "
    "on Azure compute with a managed identity (AZURE_CLIENT_ID picks a user-assigned one)."
)


class AuthenticationError(KedroAzureMLError):
    """No Azure credential could get a token."""


def is_interactive() -> bool:
    """A person at a terminal, outside CI."""
    if any(os.environ.get(name) for name in CI_ENV_VARS):
        return False
    return sys.stdin.isatty() and sys.stdout.isatty()


def default_credential(*, interactive: bool | None = None, scope: str = MANAGEMENT_SCOPE) -> Any:
    """A credential that has just proven it can get a token for ``scope``."""
    from azure.identity import DefaultAzureCredential

    credential = DefaultAzureCredential(exclude_interactive_browser_credential=True)
    try:
        return verified(credential, scope)
    except AuthenticationError:
        if not (is_interactive() if interactive is None else interactive):
            raise
    from azure.identity import InteractiveBrowserCredential

    logger.warning("No Azure login found; opening a browser to sign in.")
    return verified(InteractiveBrowserCredential(), scope)


def verified(credential: Any, scope: str = MANAGEMENT_SCOPE) -> Any:
    """``credential`` if it gets a token for ``scope``, else one error that says what to do."""
    from azure.core.exceptions import ClientAuthenticationError

    # azure.identity logs every credential it tried as a long WARNING; our one error says
    # the same in a line, with what to do.
    identity_logger = logging.getLogger("azure.identity")
    level = identity_logger.level
    identity_logger.setLevel(logging.ERROR)
    try:
        credential.get_token(scope)
    except ClientAuthenticationError as exc:
        reason = _first_line(getattr(exc, "message", None) or str(exc))
        raise AuthenticationError(
            f"Could not sign in to Azure ({reason}). {SIGN_IN_HELP}"
        ) from None
    finally:
        identity_logger.setLevel(level)
    return credential


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else "no credential available"
    return line if len(line) <= 300 else line[:297] + "..."
