"""The azure-ai-ml SDK's "experimental class" notices: noise the user cannot act on.

The SDK logs one (logger ``azure.ai.ml._utils._experimental``) the first time it builds an
experimental class, which validating or dumping any job does, and warns about some on import.
Both are silenced only while our code drives the SDK: an application that imports our
compiler and uses the SDK itself still sees its notices.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

EXPERIMENTAL_LOGGER = "azure.ai.ml._utils._experimental"


@contextmanager
def quiet_sdk() -> Iterator[None]:
    logger = logging.getLogger(EXPERIMENTAL_LOGGER)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*experimental.*")
            yield
    finally:
        logger.setLevel(level)
