"""Which Kedro parameters become pipeline inputs, and which steps receive them.

A parameter listed under a job's ``inputs`` becomes a typed input of the Azure ML pipeline
job, its resolved value the default. Every step with a node that reads it (``params:`` of it
or of a parent key, or all ``parameters``) gets it as a literal step input and applies it as
a runtime parameter override, so changing it in Studio changes what the nodes see without
recompiling. A parameter the compiler itself resolves (a distributed node's counts) cannot be
an input: its value is fixed in the compiled job.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from kedro_azureml.compiler.job_settings import ParamInput
from kedro_azureml.compiler.naming import unique_names
from kedro_azureml.contract.param_inputs import MISSING, input_type, lookup, parameter_paths
from kedro_azureml.errors import CompileError


def param_inputs(
    params: Mapping[str, Any], paths: Sequence[str], where: str
) -> tuple[ParamInput, ...]:
    """The typed inputs of ``paths`` (dotted parameter paths); ``where`` names the config key."""
    ports = unique_names(paths, "pipeline input")
    inputs = []
    for path in paths:
        value = lookup(params, path)
        if value is MISSING:
            close = difflib.get_close_matches(path, parameter_paths(params), n=3, cutoff=0.6)
            hint = f" Did you mean {', '.join(close)}?" if close else ""
            raise CompileError(f"{where}: parameter '{path}' does not exist.{hint}")
        kind = input_type(value)
        if kind is None:
            what = "null" if value is None else f"a {type(value).__name__}"
            raise CompileError(
                f"{where}: parameter '{path}' is {what}; a pipeline input is a number, integer, "
                "string or boolean. List its scalar keys instead (e.g. "
                f"'{path}.<key>'), or leave it out of the inputs."
            )
        inputs.append(ParamInput(path=path, port=ports[path], type=kind, default=value))
    return tuple(inputs)


def reads_parameter(node: Any, path: str) -> bool:
    """Whether a node receives the parameter at ``path``, itself or within a parent key."""
    for name in node.inputs:
        if name == "parameters":
            return True
        if name.startswith("params:"):
            key = name.removeprefix("params:")
            if path == key or path.startswith(f"{key}."):
                return True
    return False


def step_inputs(
    pipeline: Any, steps: Iterable[Any], inputs: Sequence[ParamInput]
) -> dict[str, tuple[ParamInput, ...]]:
    """For each step (``.name``, ``.node_names``), the inputs its nodes read."""
    if not inputs:
        return {}
    nodes = {node.name: node for node in pipeline.nodes}
    found = {}
    for step in steps:
        read = tuple(
            param
            for param in inputs
            if any(reads_parameter(nodes[name], param.path) for name in step.node_names)
        )
        if read:
            found[step.name] = read
    return found


def check_compile_time_uses(
    pipeline: Any, params: Mapping[str, Any], inputs: Sequence[ParamInput]
) -> None:
    """An input must not be a value the compiler fixes in the job (a distributed count)."""
    if not inputs:
        return
    from kedro_azureml.distributed.spec import compile_time_parameters

    wanted = {param.path for param in inputs}
    for node in pipeline.nodes:
        for setting, path in compile_time_parameters(node, dict(params)):
            if path in wanted:
                raise CompileError(
                    f"Parameter '{path}' is a pipeline input, but node '{node.name}' uses it at "
                    f"compile time ({setting} of @distributed_job): Azure ML fixes a step's "
                    "machines and processes when the job is compiled, so changing the input "
                    "later could not change them. Remove it from the job's inputs (change it "
                    "with --params instead)."
                )
