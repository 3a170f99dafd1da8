"""The job YAML emitter writes every string so that YAML reads back exactly that string."""

from __future__ import annotations

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kedro_azureml.compiler.yaml_out import dump_yaml

# Strings users hand us (env var values, images, names) and their worst cases: YAML syntax
# characters, control characters, trailing newlines and spaces, unicode.
TRICKY = st.sampled_from(["\n", "\r", "\t", " ", ":", "#", "$", "'", '"', "\x7f", "\x85", "-"])
STRINGS = st.text() | st.lists(st.text(max_size=3) | TRICKY).map("".join)
# The local runner reads the YAML with libyaml, the tests and the SDK with PyYAML: both count.
LOADERS = [yaml.SafeLoader, getattr(yaml, "CSafeLoader", yaml.SafeLoader)]


def _read(text: str) -> list[object]:
    return [yaml.load(text, Loader=loader) for loader in LOADERS]


@given(value=STRINGS, key=STRINGS)
@settings(max_examples=400, deadline=None)
def test_any_string_reads_back_as_itself(value: str, key: str) -> None:
    data = {"jobs": {"step": {"environment_variables": {key or "k": value}, "image": value}}}
    assert _read(dump_yaml(data)) == [data, data]


@given(values=st.lists(STRINGS, min_size=1, max_size=4))
@settings(max_examples=100, deadline=None)
def test_strings_in_lists_read_back(values: list[str]) -> None:
    data = {"command": values, "nested": [{"a": value} for value in values]}
    assert _read(dump_yaml(data)) == [data, data]


def test_a_trailing_newline_is_kept_and_the_yaml_stays_valid() -> None:
    # Before: "x:\n" passed the plain-string check ($ matches before a final newline) and
    # was written bare, which is not valid YAML at all.
    data = {"environment_variables": {"FOO": "x:\n", "BAR": "plain\n"}, "next": 1}
    assert _read(dump_yaml(data)) == [data, data]


def test_a_key_too_long_for_the_simple_form_reads_back() -> None:
    """Found by the round-trip test above: YAML reads ``key: value`` only for keys shorter
    than 1024 characters, and escaping makes a key longer still."""
    key = "0" * 35 + "\x1f" + "\u0100" * 200
    data = {"jobs": {"step": {"environment_variables": {key: "", "short": "x"}}}}
    assert _read(dump_yaml(data)) == [data, data]
