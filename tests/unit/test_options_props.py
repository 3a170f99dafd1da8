"""Property: a value given on the CLI reaches the step unchanged, quoting included.

``--params`` and ``--load-versions`` (and the node, dataset, pipeline and env names) travel
inside the step's command: parsed on the CLI, rendered by the compiler, filled in (bindings
replaced by folders, as Azure ML and ``run --local`` do), split by a shell and parsed by
``kedro azureml execute``. ``--env-var`` travels in the job YAML's environment_variables.
Each must come back as it went in.
"""

from __future__ import annotations

import json
import math
import shlex
from typing import Any

import click
import pytest
import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from kedro_azureml.cli import execute
from kedro_azureml.compiler.plan import JobPlan, StepPlan
from kedro_azureml.compiler.render import (
    CompileOptions,
    Placeholder,
    join_command,
    render_job,
    step_command,
)
from kedro_azureml.compiler.yaml_out import dump_yaml, job_to_dict
from kedro_azureml.config import parse_config
from kedro_azureml.contract.bindings import STEP_IO
from kedro_azureml.contract.options import parse_env_vars, parse_load_versions, parse_params
from kedro_azureml.errors import CompileError
from kedro_azureml.local.job import read_steps
from tests.support.properties import MINIMAL_CONFIG, fuzz

# What a shell may pass in one argument: anything but NUL. Undecodable bytes reach Python as
# surrogate escapes.
characters = st.one_of(
    st.characters(blacklist_characters="\x00", blacklist_categories=["Cs"]),
    st.sampled_from("\udcff\udc80"),
)
# Characters that matter to bash, YAML, JSON, click and Azure ML.
tricky = st.sampled_from(
    [
        "'",
        '"',
        "\\",
        "$",
        "`",
        "!",
        "\n",
        " ",
        "\t",
        "${{inputs.p0}}",
        "${{outputs.out}}",
        "${HOME}",
        "$(id)",
        "--node",
        "-e",
        "--",
        "=",
        ":",
        ",",
        "#",
        "&&",
        "é",
        "\u2028",
    ]
)
texts = st.lists(st.one_of(characters, tricky), max_size=8).map("".join)
names = texts.filter(bool)
# What --params can hold once parsed: UTF-8 text (no surrogate escapes).
utf8_texts = texts.filter(lambda text: not any("\udc80" <= c <= "\udcff" for c in text))

json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(),
        utf8_texts,
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(utf8_texts, inner, max_size=3)
    ),
    max_leaves=10,
)
params_dicts = st.dictionaries(utf8_texts, json_values, max_size=4)
json_params = st.one_of(params_dicts, st.dictionaries(texts, json_values, max_size=2)).map(
    lambda value: json.dumps(value, ensure_ascii=False)
)
# Kedro's a.b=1,c=x: keys as Kedro users write them, values as YAML scalars and flow values.
dotlist_values = st.one_of(
    texts.filter(lambda text: "," not in text),
    st.sampled_from(
        [
            *("1", "-3", "0x10", "1_000", "1e3", ".inf", "nan", "true", "off", "~", "", "null"),
            *("[x]", "{a: 1}", "'quoted'", '"7"', "${oc.env:HOME}", "2024-01-01", "a b"),
        ]
    ),
)
dotlist_params = st.lists(
    st.tuples(
        st.from_regex(r"[a-z_][a-z0-9_]{0,4}(\.[a-z_][a-z0-9_]{0,4}){0,2}", fullmatch=True),
        dotlist_values,
    ),
    min_size=1,
    max_size=4,
).map(lambda items: ",".join(f"{key}={value}" for key, value in items))
load_versions = st.lists(
    st.tuples(
        names.filter(lambda text: ":" not in text and "," not in text),
        names.filter(lambda text: "," not in text),
    ),
    max_size=3,
).map(lambda pairs: [f"{dataset}:{version}" for dataset, version in pairs])


def same(left: Any, right: Any) -> bool:
    """Equality that also tells 1 from 1.0 and True, and takes NaN as equal to NaN."""
    if type(left) is not type(right):
        return False
    if isinstance(left, float) and math.isnan(left):
        return math.isnan(right)
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(same(left[k], right[k]) for k in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(map(same, left, right))
    return bool(left == right)


def _step(node_names: list[str], inputs: list[str]) -> StepPlan:
    return StepPlan(
        name="use",
        node_names=tuple(node_names),
        inputs={dataset: f"p{index}" for index, dataset in enumerate(inputs)},
        outputs={"result": "out"},
        compute="__default__",
    )


def _folder(kind: str, port: str) -> str:
    return f"/mnt/azureml/cr/j/0123/cap/data-capability/wd/{kind.upper()}_{port}"


def _fill_bindings(command: str) -> str:
    """What Azure ML and run --local do to a command before the shell gets it."""
    return STEP_IO.sub(lambda match: shlex.quote(_folder(*match.groups())), command)


def _parsed_by_execute(command: str) -> dict[str, Any]:
    argv = shlex.split(_fill_bindings(command))
    assert argv[:3] == ["kedro", "azureml", "execute"]
    return execute.make_context("execute", argv[3:]).params


def _parse_or_none(parse: Any, value: Any) -> Any:
    try:
        return parse(value)
    except click.BadParameter as error:
        assert error.param_hint in ("--params", "--load-versions")
        return None


@fuzz(150)
@given(
    params_text=st.one_of(json_params, dotlist_params, texts),
    version_items=load_versions,
    node_names=st.lists(names, min_size=1, max_size=3, unique=True),
    inputs=st.lists(names, max_size=3, unique=True),
    pipeline=names,
    env=st.one_of(st.none(), names),
)
@example(
    params_text='{"sql": "SELECT \'x\' -- $HOME `id` ${{inputs.p0}}"}',
    version_items=["a b:2024-01-01T00.00.00.000Z"],
    node_names=["--node"],
    inputs=["-e"],
    pipeline="data processing",
    env="${{outputs.out}}x",
).via("a value holding ${{...}} is refused, except in --params")
def test_cli_values_reach_execute_unchanged(
    params_text: str,
    version_items: list[str],
    node_names: list[str],
    inputs: list[str],
    pipeline: str,
    env: str | None,
) -> None:
    params = _parse_or_none(parse_params, params_text)
    versions = _parse_or_none(parse_load_versions, version_items)
    if params is None or versions is None:
        return
    options = CompileOptions(pipeline_name=pipeline, env=env, params=params, load_versions=versions)
    literals = [pipeline, env or "", *node_names, *inputs, *version_items]
    try:
        command = join_command(step_command(_step(node_names, inputs), options))
    except CompileError as error:
        assert any("${{" in value for value in literals)
        assert "Azure ML replaces" in str(error)
        return
    assert not any("${{" in value for value in literals)
    parsed = _parsed_by_execute(command)
    assert same(parse_params(parsed["params"]), params)
    assert parse_load_versions(parsed["load_versions"]) == versions
    assert list(parsed["nodes"]) == node_names
    assert parsed["az_inputs"] == tuple(
        (dataset, _folder("inputs", f"p{index}")) for index, dataset in enumerate(inputs)
    )
    assert parsed["az_outputs"] == (("result", _folder("outputs", "out")),)
    assert parsed["pipeline"] == pipeline
    assert parsed["env"] == (env or None)


CONFIG = parse_config(MINIMAL_CONFIG)


def _job_yaml(options: CompileOptions, dataset: str) -> dict[str, Any]:
    """Compile a two-step job (as `compile` does) and read its YAML back."""
    make = StepPlan("make", ("make",), {}, {dataset: "data"}, "__default__")
    use = StepPlan("use", ("use",), {dataset: "data"}, {}, "__default__")
    plan = JobPlan(pipeline_name="__default__", steps=[make, use], job_outputs={})
    job = render_job(plan, CONFIG, options)
    data: dict[str, Any] = yaml.safe_load(dump_yaml(job_to_dict(job, ".")))
    return data


# #15.16: the YAML emitter drops a value's final newline; it is fixed on the branch that owns
# yaml_out.py. Drop this filter once that fix is merged.
env_values = utf8_texts.filter(lambda value: not value.endswith("\n"))


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@fuzz(25)
@given(
    env_items=st.dictionaries(
        st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True), env_values, max_size=3
    ),
    params=params_dicts,
    dataset=names,
)
def test_values_survive_the_job_yaml(
    tmp_path_factory: pytest.TempPathFactory,
    env_items: dict[str, str],
    params: dict[str, Any],
    dataset: str,
) -> None:
    """--env-var through environment_variables, --params through the command, in real YAML."""
    env_vars = parse_env_vars(f"{key}={value}" for key, value in env_items.items())
    options = CompileOptions(params=params, env_vars=env_vars, code=".")
    try:
        data = _job_yaml(options, dataset)
    except CompileError:
        assert "${{" in dataset
        return
    steps = {step.name: step for step in read_steps(data, tmp_path_factory.getbasetemp())}
    assert steps["use"].environment_variables == env_items
    parsed = _parsed_by_execute(steps["use"].command)
    assert same(parse_params(parsed["params"]), params)
    assert parsed["az_inputs"] == ((dataset, _folder("inputs", "data")),)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a=!!binary aGk=", "'a' reads as a Python bytes"),
        ("a=[!!binary aGk=]", "'a[0]' reads as a Python bytes"),
        ("a.b={1: x}", "'a.b' has the key 1, which is not a string"),
        ("a={yes: 1}", "'a' has the key True, which is not a string"),
        ("a=!!omap [x: 1]", "'a[0]' reads as a Python tuple"),
    ],
    ids=["binary", "binary-in-list", "int-key", "bool-key", "ordered-pairs"],
)
def test_params_json_would_change_are_refused(text: str, message: str) -> None:
    """Found by the property above. Before: bytes gave a TypeError traceback at compile
    ("Object of type bytes is not JSON serializable"), int keys and pairs silently reached
    the steps as string keys and lists."""
    with pytest.raises(click.BadParameter, match=message.replace("[", r"\[")) as error:
        parse_params(text)
    assert error.value.param_hint == "--params"


def test_binding_in_params_is_escaped() -> None:
    """Found by the property above. Before: Azure ML (and run --local) replaced the
    ``${{outputs.out}}`` inside the JSON with the output folder: the node got a path."""
    params = {"template": "${{outputs.out}}", "note": "$HOME ${{ inputs.x }}"}
    tokens = step_command(_step(["n"], []), CompileOptions(params=params))
    text = tokens[tokens.index("--params") + 1]
    assert isinstance(text, str)
    assert "${{" not in text
    assert STEP_IO.search(join_command(tokens).split("--params", 1)[1]) is None
    assert parse_params(text) == params


@pytest.mark.parametrize(
    ("options", "node", "what"),
    [
        (CompileOptions(env="${{inputs.p0}}"), "n", "the environment '${{inputs.p0}}'"),
        (CompileOptions(), "${{outputs.out}}", "the node name '${{outputs.out}}'"),
        (
            CompileOptions(load_versions={"a": "${{x}}"}),
            "n",
            "the --load-versions item 'a:${{x}}'",
        ),
    ],
    ids=["env", "node", "load-versions"],
)
def test_binding_in_other_values_is_a_compile_error(
    options: CompileOptions, node: str, what: str
) -> None:
    """Found by the property above. Before: the value reached the step silently changed."""
    with pytest.raises(CompileError) as error:
        step_command(_step([node], []), options)
    assert str(error.value) == (
        f"Step 'use': {what} holds '${{{{', which Azure ML replaces in a step's command with "
        "its own values, so the step would get another value. Remove '${{' from it."
    )


def test_placeholder_tokens_stay_bindings() -> None:
    tokens = step_command(_step(["n"], ["d"]), CompileOptions())
    assert Placeholder("inputs", "p0") in tokens
    assert "${{inputs.p0}}" in join_command(tokens)


def test_characters_beyond_the_basic_plane_survive_the_job_yaml(tmp_path: Any) -> None:
    """Found by the property above. Before: the YAML held JSON's UTF-16 pair "\\ud83d\\ude80",
    which YAML reads as two lone surrogates: the step got another dataset name and param."""
    options = CompileOptions(params={"msg": "go 🚀"}, env_vars={"ICON": "🚀"}, code=".")
    steps = {step.name: step for step in read_steps(_job_yaml(options, "data🚀"), tmp_path)}
    assert steps["use"].environment_variables == {"ICON": "🚀"}
    parsed = _parsed_by_execute(steps["use"].command)
    assert parse_params(parsed["params"]) == {"msg": "go 🚀"}
    assert parsed["az_inputs"] == (("data🚀", _folder("inputs", "data")),)


@pytest.mark.parametrize(
    ("parse", "value", "option"),
    [
        (parse_params, "name=caf\udce9", "--params"),
        (parse_env_vars, ["NAME=caf\udce9"], "--env-var"),
        (parse_load_versions, ["cars:caf\udce9"], "--load-versions"),
    ],
    ids=["params", "env-var", "load-versions"],
)
def test_bytes_that_are_not_utf8_are_refused(parse: Any, value: Any, option: str) -> None:
    """Found by the property above (a Latin-1 terminal's "café"). Before: --params gave a
    UnicodeEncodeError traceback; --env-var and --load-versions went into the job."""
    with pytest.raises(click.BadParameter) as error:
        parse(value)
    assert error.value.param_hint == option
    assert error.value.message == (
        "byte 0xe9 at position 8 of "
        + repr(value if isinstance(value, str) else value[0])
        + " is not UTF-8 (is the terminal set to another encoding?): give the value as UTF-8."
    )
