"""`--params`, `--env-var` and `--load-versions` as typed on the command line."""

from __future__ import annotations

import logging
from typing import Any

import click
import pytest

from kedro_azureml.contract.options import parse_env_vars, parse_load_versions, parse_params


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, {}),
        ("  ", {}),
        ('{"a": {"b": 1}}', {"a": {"b": 1}}),
        (
            '{"msg": "it\'s $HOME \\"quoted\\" ünïcode"}',
            {"msg": 'it\'s $HOME "quoted" ünïcode'},
        ),
        ('  {"n": null, "l": [1, 2]}', {"n": None, "l": [1, 2]}),
        ("a.b=1,c=x", {"a": {"b": 1}, "c": "x"}),
        ("a.b=1,a.c=2.5", {"a": {"b": 1, "c": 2.5}}),
        ("k = spaced value , n=-3", {"k": "spaced value", "n": -3}),
        ("a=1,a.b=2", {"a": {"b": 2}}),
        ("url=http://h/?q=1", {"url": "http://h/?q=1"}),
        ("a=1,,b=2", {"a": 1, "b": 2}),
        ("x=", {"x": None}),
        ("flag=true,off=False,n=null,t=~", {"flag": True, "off": False, "n": None, "t": None}),
        ("z=0x10,big=1_000,e=1e3", {"z": 16, "big": 1000, "e": 1000.0}),
        ("k=nan,v=1.0.0,d=2024-01-01", {"k": "nan", "v": "1.0.0", "d": "2024-01-01"}),
        ('s="7",i=${oc.env:HOME}', {"s": "7", "i": "${oc.env:HOME}"}),
    ],
    ids=[
        "none",
        "blank",
        "json",
        "json-quotes-dollar-unicode",
        "json-leading-space",
        "kedro-nested",
        "kedro-siblings",
        "kedro-spaces-and-negative",
        "kedro-scalar-then-nested",
        "kedro-value-with-equals",
        "kedro-empty-item",
        "kedro-empty-value",
        "kedro-yaml-bool-and-null",
        "kedro-yaml-int-forms",
        "kedro-strings-that-look-numeric",
        "kedro-quoted-and-interpolation-kept",
    ],
)
def test_parse_params(text: str | None, expected: dict[str, Any]) -> None:
    assert parse_params(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"a": 1', "not valid JSON"),
        ("novalue", "'novalue' is not key=value"),
        ("=1", "'=1' is not key=value"),
        ("a=1,b", "'b' is not key=value"),
    ],
    ids=["broken-json", "unclosed-json", "no-equals", "no-key", "second-item"],
)
def test_bad_params_are_usage_errors(text: str, message: str) -> None:
    with pytest.raises(click.BadParameter, match=message) as error:
        parse_params(text)
    assert error.value.param_hint == "--params"
    assert error.value.exit_code == 2


KEDRO_DOTLISTS = [
    "a.b=1,c=x",
    "a=1,a.b=2",
    "k = spaced value , n=-3",
    "url=http://h/?q=1",
    "x=,flag=true,n=null,z=0x10,k=nan,inf=.inf",
    "y=yes,o=~,v=1.0.0,d=2024-01-01,e=1e3",
    's="7",m={a: 1},i=${oc.env:HOME}',
]


@pytest.mark.parametrize("text", KEDRO_DOTLISTS, ids=range(len(KEDRO_DOTLISTS)))
def test_params_parse_as_kedro_run_does(text: str) -> None:
    """Parity with the callback behind ``kedro run --params`` (private, so checked, not used)."""
    from kedro.framework.cli.utils import _split_params

    option = click.Option(["--params"])
    expected = _split_params(click.Context(click.Command("run")), option, text)
    assert parse_params(text) == expected


@pytest.mark.parametrize(
    "text", ["a=${", "a=[1", 'a="x', "a=!!python/name:os.system"], ids=lambda text: text
)
def test_unreadable_param_value_is_a_usage_error(text: str) -> None:
    with pytest.raises(click.BadParameter, match="cannot be read") as error:
        parse_params(text)
    assert error.value.param_hint == "--params"


def test_json_params_must_be_an_object() -> None:
    with pytest.raises(click.BadParameter, match="got a JSON list; --params takes a JSON object"):
        parse_params("[1, 2]")


def test_parse_env_vars(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="kedro_azureml.contract.options"):
        env = parse_env_vars(["A=1", "_B=x=y", "EMPTY=", "MSG=it's $HOME ünï"])
    assert env == {"A": "1", "_B": "x=y", "EMPTY": "", "MSG": "it's $HOME ünï"}
    assert caplog.records == []


@pytest.mark.parametrize(
    ("item", "prefix"), [("AZUREML_X=1", "AZUREML_"), ("AZURE_CLIENT_ID=x", "AZURE_")]
)
def test_reserved_env_var_prefix_warns(
    item: str, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="kedro_azureml.contract.options"):
        env = parse_env_vars([item])
    assert env == dict([item.split("=", 1)])
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert record.getMessage() == (
        f"--env-var {item.split('=')[0]} may shadow a variable Azure ML sets itself ({prefix}*)."
    )


@pytest.mark.parametrize(
    "item", ["NOVALUE", "=1", "1A=x", "A-B=1", "A B=1", "ü=1"], ids=lambda item: item
)
def test_malformed_env_var_is_a_usage_error(item: str) -> None:
    with pytest.raises(click.BadParameter, match="is not KEY=VALUE") as error:
        parse_env_vars([item])
    assert error.value.param_hint == "--env-var"
    assert error.value.exit_code == 2


def test_parse_load_versions() -> None:
    assert parse_load_versions(["a:1", "b:2026-01-01T00.00.00.000Z,c:v3"]) == {
        "a": "1",
        "b": "2026-01-01T00.00.00.000Z",
        "c": "v3",
    }
    with pytest.raises(click.BadParameter, match="'a' is not dataset:version"):
        parse_load_versions(["a"])
