"""How this plugin's Blob storage clients retry, and how they say an account is unreachable.

The storage SDK's default retries (``ExponentialRetry``: 3 retries from 15 s) spend about 90 s
on an account that cannot be reached at all. So every transfer first makes one request with
``PROBE_POLICY`` (no retry on a connection error: a DNS failure or a refused connection is one
attempt), then moves the files with ``TRANSFER_POLICY`` (a blip is retried, briefly). Used by
the temporary container (``blob_folders``) and the data asset downloads (``assets``).

Nothing here imports the storage SDK, so both may import it cheaply.
"""

from __future__ import annotations

import socket
from typing import Any

from kedro_azureml.contract.storage_paths import redact_urls
from kedro_azureml.errors import KedroAzureMLError

# Keyword arguments of the storage SDK's clients (azure-storage-blob's ExponentialRetry and
# azure-core's transport), sync and async alike.
PROBE_POLICY: dict[str, Any] = {
    "retry_connect": 0,
    "retry_total": 1,
    "initial_backoff": 1,
    "increment_base": 1,
    "random_jitter_range": 1,
    "connection_timeout": 5,
    "read_timeout": 10,
}
# Moving files: a blip is retried, an outage fails in seconds, not a minute and a half.
TRANSFER_POLICY: dict[str, Any] = {
    "retry_connect": 1,
    "retry_total": 3,
    "initial_backoff": 1,
    "increment_base": 2,
    "random_jitter_range": 1,
    "connection_timeout": 10,
    "read_timeout": 60,
}


class StorageUnreachable(KedroAzureMLError):
    """A storage account did not answer (DNS, refused connection, timeout): the temporary
    container of ``run --local --remote-storage``, or the datastore of a data asset."""


def _causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and what it wraps: azure-core's ``inner_exception``, aiohttp's ``os_error``,
    urllib3's ``reason``, and Python's chaining."""
    found: list[BaseException] = []
    stack = [exc]
    while stack:
        current = stack.pop()
        if any(current is seen for seen in found):
            continue
        found.append(current)
        linked = (
            getattr(current, "inner_exception", None),
            getattr(current, "os_error", None),
            getattr(current, "reason", None),
            current.__cause__,
            current.__context__,
        )
        stack += [item for item in linked if isinstance(item, BaseException)]
    return found


def unreachable_reason(exc: BaseException) -> str:
    """Why a storage request could not be sent, in words, with no secret in them."""
    first_line = redact_urls(str(exc).splitlines()[0]) if str(exc).strip() else ""
    for cause in _causes(exc):
        if isinstance(cause, socket.gaierror):
            return f"its host name does not resolve ({first_line})"
        if isinstance(cause, ConnectionRefusedError):
            return f"the connection was refused ({first_line})"
        if isinstance(cause, TimeoutError):
            return f"the connection timed out ({first_line})"
    return first_line or type(exc).__name__
