"""The step command through a real bash: the tokens execute gets are the ones the compiler meant.

It starts bash, so it lives with the tests that spawn processes; the strategies are the unit
property tests' own (tests/unit/test_options_props.py).
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from kedro_azureml.cli import execute
from kedro_azureml.compiler.render import CompileOptions, join_command, step_command
from kedro_azureml.contract.options import parse_params
from tests.support.properties import fuzz
from tests.unit.test_options_props import _fill_bindings, _step, names, params_dicts, same

PRINT_ARGV = "import json, sys; print(json.dumps(sys.argv[1:]))"


@fuzz(15)
@given(
    params=params_dicts.filter(bool),
    node_names=st.lists(names.filter(lambda name: "${{" not in name), min_size=1, max_size=3),
)
@example(params={"s": 'it\'s "$HOME" `id` $(id) \\ ${{inputs.p0}} \n é'}, node_names=["a'b"])
def test_real_bash_splits_the_command_as_shlex_does(
    params: dict[str, Any], node_names: list[str]
) -> None:
    """bash, not only shlex, gives execute the tokens the compiler meant."""
    tokens = step_command(_step(node_names, ["in put"]), CompileOptions(params=params))
    command = _fill_bindings(join_command([sys.executable, "-c", PRINT_ARGV, *tokens[3:]]))
    completed = subprocess.run(
        ["bash", "-c", command], capture_output=True, check=True, env={"PATH": "/usr/bin:/bin"}
    )
    argv = json.loads(completed.stdout)
    assert argv == shlex.split(_fill_bindings(join_command(tokens[3:])))
    parsed = execute.make_context("execute", argv).params
    assert same(parse_params(parsed["params"]), params)
    assert list(parsed["nodes"]) == node_names
