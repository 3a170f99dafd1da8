"""``module:attribute`` references: one helper for --on-job-scheduled and the test seam."""

from __future__ import annotations

import json

import pytest

from kedro_azureml.contract.references import import_reference


def test_a_reference_names_the_object() -> None:
    assert import_reference("json:dumps") is json.dumps


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("json", "'json' is not of the form module:attribute"),
        (":dumps", "':dumps' is not of the form module:attribute"),
        ("json:", "'json:' is not of the form module:attribute"),
        ("no_such_module_xyz:f", "No module named 'no_such_module_xyz'"),
        ("json:no_such_function", "has no attribute 'no_such_function'"),
        ("..relative:f", "relative import"),
    ],
    ids=[
        "no-colon",
        "no-module",
        "no-attribute",
        "missing-module",
        "missing-attribute",
        "relative",
    ],
)
def test_every_bad_reference_is_one_import_error_that_says_why(
    reference: str, message: str
) -> None:
    with pytest.raises(ImportError, match=message):
        import_reference(reference)
