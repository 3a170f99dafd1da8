"""``module:attribute`` references, as users name a callback or the test seam a credential."""

from __future__ import annotations

import importlib
from typing import Any


def import_reference(reference: str) -> Any:
    """The object ``reference`` names, imported now so a typo fails before anything runs.

    Raises ImportError, with what was wrong, for a malformed reference, a missing module and a
    missing attribute alike: callers say which setting it came from.
    """
    module_name, colon, attribute = reference.partition(":")
    if not (module_name and colon and attribute):
        raise ImportError(f"'{reference}' is not of the form module:attribute")
    try:
        module = importlib.import_module(module_name)
    except (TypeError, ValueError) as exc:  # e.g. a relative name: "..module"
        raise ImportError(str(exc)) from exc
    try:
        return getattr(module, attribute)
    except AttributeError as exc:
        raise ImportError(str(exc)) from exc
