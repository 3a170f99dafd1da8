"""Parameters as pipeline inputs: types, text, which steps read them, compile-time uses."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from kedro.pipeline import node, pipeline

from kedro_azureml.compiler.inputs import check_compile_time_uses, param_inputs, step_inputs
from kedro_azureml.contract.param_inputs import InputValueError, parse_value, value_text
from kedro_azureml.distributed import Framework, distributed_job
from kedro_azureml.errors import CompileError
from kedro_azureml.local.job import read_steps
from kedro_azureml.step.execute import with_param_inputs

PARAMS = {"scoring": {"weight": 2.5, "n": 3, "label": "a b", "on": True, "list": [1]}}


def _f(*args: Any) -> int:
    return 1


@distributed_job(Framework.PyTorch, num_nodes="params:num_nodes")
def _train(*args: Any) -> int:
    return 1


def test_each_scalar_becomes_a_typed_input_with_its_value() -> None:
    inputs = param_inputs(
        PARAMS, ["scoring.weight", "scoring.n", "scoring.label", "scoring.on"], "k"
    )
    assert [(p.port, p.type, p.default) for p in inputs] == [
        ("scoring_weight", "number", 2.5),
        ("scoring_n", "integer", 3),
        ("scoring_label", "string", "a b"),
        ("scoring_on", "boolean", True),
    ]


def test_a_list_is_not_an_input() -> None:
    with pytest.raises(CompileError, match=r"jobs\.n\.inputs: parameter 'scoring\.list' is a list"):
        param_inputs(PARAMS, ["scoring.list"], "jobs.n.inputs")


@pytest.mark.parametrize(
    ("value", "kind"),
    [(2.5, "number"), (3, "integer"), ("a 'b'", "string"), (True, "boolean"), (False, "boolean")],
)
def test_text_azure_ml_writes_reads_back_as_the_value(value: Any, kind: str) -> None:
    assert parse_value(value_text(value), kind, "x") == value


def test_text_that_does_not_fit_the_type_is_refused() -> None:
    with pytest.raises(InputValueError, match=r"'x' is of type integer; '2\.5' is not an integer"):
        parse_value("2.5", "integer", "x")


def test_steps_reading_the_parameter_or_a_parent_key_get_it() -> None:
    pipe = pipeline(
        [
            node(_f, "params:scoring.weight", "a", name="direct"),
            node(_f, "params:scoring", "b", name="parent"),
            node(_f, "parameters", "c", name="all"),
            node(_f, "params:scoring.n", "d", name="sibling"),
        ]
    )
    steps = [SimpleNamespace(name=n.name, node_names=(n.name,)) for n in pipe.nodes]
    (weight,) = param_inputs(PARAMS, ["scoring.weight"], "k")
    assert set(step_inputs(pipe, steps, [weight])) == {"direct", "parent", "all"}


def test_a_count_the_compiler_resolves_cannot_be_an_input() -> None:
    pipe = pipeline(
        [node(_train, ["x", "params:num_nodes"], "model", name="train")], namespace="ds"
    )
    params = {"ds": {"num_nodes": 2}}
    with pytest.raises(CompileError) as error:
        check_compile_time_uses(pipe, params, param_inputs(params, ["ds.num_nodes"], "k"))
    assert "node 'ds.train' uses it at compile time (num_nodes of @distributed_job)" in str(
        error.value
    )


def test_the_step_applies_its_inputs_over_the_compiled_params() -> None:
    params = {"scoring": {"weight": 2.5, "keep": 1}}
    assert with_param_inputs(params, [("scoring.weight", "number", "3")]) == {
        "scoring": {"weight": 3.0, "keep": 1}
    }


def test_run_local_writes_a_bound_literal_as_azure_ml_does() -> None:
    job = {
        "type": "pipeline",
        "inputs": {"w": 2.5, "on": True},
        "jobs": {
            "s": {
                "inputs": {"w": {"path": "${{parent.inputs.w}}"}, "on": "${{parent.inputs.on}}"},
                "component": {"command": "echo '${{inputs.w}}' ${{inputs.on}}"},
            }
        },
    }
    (step,) = read_steps(job, Path("."))
    assert step.literal_inputs == {"w": "2.5", "on": "True"}
    assert step.inputs == {}
