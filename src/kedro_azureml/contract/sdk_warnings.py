"""The azure-ai-ml SDK's "experimental class" notices: noise the user cannot act on.

The SDK logs one (logger ``azure.ai.ml._utils._experimental``) the first time it builds an
experimental class, which validating or dumping any job does, and warns about some on import.
Both are silenced only while our code drives the SDK: an application that imports our
compiler and uses the SDK itself still sees its notices.

Before each notice the SDK asks ``_should_skip_warning()``, which walks ``inspect.stack()``
and reads the source of every frame: about 0.1 s a call, several calls per compile, for a
notice we drop anyway. While quiet, an SDK already imported skips it: the notice is then
neither logged nor remembered as shown, as when the SDK itself skips one.
"""

from __future__ import annotations

import logging
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

EXPERIMENTAL_LOGGER = "azure.ai.ml._utils._experimental"


@contextmanager
def quiet_sdk() -> Iterator[None]:
    logger = logging.getLogger(EXPERIMENTAL_LOGGER)
    level = logger.level
    logger.setLevel(logging.ERROR)
    experimental = sys.modules.get(EXPERIMENTAL_LOGGER)  # the logger is named after its module
    should_skip = getattr(experimental, "_should_skip_warning", None)
    if should_skip is not None:
        experimental._should_skip_warning = _skip  # type: ignore[union-attr]
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*experimental.*")
            yield
    finally:
        logger.setLevel(level)
        if should_skip is not None:
            experimental._should_skip_warning = should_skip  # type: ignore[union-attr]


def _skip() -> bool:
    return True
