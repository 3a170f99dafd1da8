"""Read a compiled Azure ML pipeline job (the YAML) into steps the local runner can execute.

Works on the plain YAML dict, not on SDK objects: the local runner must run exactly what
``az ml job create -f`` would receive, and must not pay the SDK's import time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kedro_azureml.contract.bindings import JOB_INPUT, JOB_OUTPUT, STEP_OUTPUT
from kedro_azureml.contract.param_inputs import value_text
from kedro_azureml.contract.storage_paths import is_datastore_uri
from kedro_azureml.contract.working_directory import split_working_directory
from kedro_azureml.errors import KedroAzureMLError


@dataclass
class LocalStep:
    name: str
    display_name: str
    command: str  # run in the step's folder: the snapshot of its code, or the project
    environment_variables: dict[str, str]
    inputs: dict[str, tuple[str, str]]  # port -> (producing step, its output port)
    outputs: dict[str, str | None]  # port -> job output name, or None for a step-only output
    code: Path | None
    output_uris: dict[str, str] = field(default_factory=dict)  # port -> datastore URI (mode B)
    asset_inputs: dict[str, tuple[str, str]] = field(default_factory=dict)  # port -> (type, path)
    # port -> the text Azure ML writes for a literal input (a job input's value, or a literal)
    literal_inputs: dict[str, str] = field(default_factory=dict)
    asset_outputs: set[str] = field(default_factory=set)  # ports registered as data assets
    instance_count: int = 1
    distribution: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    # Docker image flow: where the image holds the project, from the command's `cd <dir> &&`
    # (which ``command`` no longer has: run --local runs the step in the project itself).
    working_directory: str | None = None
    timeout: float | None = None  # limits.timeout, seconds

    @property
    def depends_on(self) -> set[str]:
        return {producer for producer, _ in self.inputs.values()}


def _binding(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("path")
    return value if isinstance(value, str) else None


def _timeout(node: dict[str, Any]) -> float | None:
    """``limits.timeout`` in seconds (the YAML holds seconds; the REST form, ISO 8601, is not
    written by the compiler)."""
    value = (node.get("limits") or {}).get("timeout")
    return float(value) if isinstance(value, int | float) and value > 0 else None


def _resources(node: dict[str, Any]) -> int:
    resources = node.get("resources") or {}
    return int(resources.get("instance_count") or node.get("instance_count") or 1)


def _literal(value: Any, job_inputs: dict[str, Any]) -> str | None:
    """The text of a literal step input, as Azure ML substitutes it; None for data inputs.

    A step input bound to a pipeline input (``${{parent.inputs.x}}``) takes that input's value.
    """
    if isinstance(value, dict) and set(value) <= {"type", "default", "value", "path"}:
        value = value.get("value", value.get("default", value.get("path")))
    if isinstance(value, str):
        match = JOB_INPUT.match(value)
        if not match:
            return None
        bound = job_inputs.get(match.group(1))
        if isinstance(bound, dict):
            bound = bound.get("value", bound.get("default"))
        if bound is None:
            raise KedroAzureMLError(f"{value} names no input of the pipeline job.")
        return value_text(bound)
    if isinstance(value, bool | int | float):
        return value_text(value)
    return None


def read_steps(job: dict[str, Any], yaml_dir: Path) -> list[LocalStep]:
    """The steps of a compiled pipeline job, with every binding checked to name a real step."""
    if job.get("type") != "pipeline" or not isinstance(job.get("jobs"), dict):
        raise KedroAzureMLError("The YAML is not an Azure ML pipeline job (type: pipeline).")
    job_inputs = job.get("inputs") or {}
    steps = [_read_step(name, node, yaml_dir, job_inputs) for name, node in job["jobs"].items()]
    known = {step.name for step in steps}
    for step in steps:
        unknown = step.depends_on - known
        if unknown:
            raise KedroAzureMLError(f"Step '{step.name}' reads from unknown step(s) {unknown}.")
    return steps


def _read_step(
    name: str, node: dict[str, Any], yaml_dir: Path, job_inputs: dict[str, Any]
) -> LocalStep:
    component = node.get("component") or {}
    if not isinstance(component, dict) or "command" not in component:
        raise KedroAzureMLError(f"Step '{name}' has no inline command component to run.")
    inputs, asset_inputs, literal_inputs = _read_inputs(name, node.get("inputs") or {}, job_inputs)
    outputs, output_uris, asset_outputs = _read_outputs(component, node.get("outputs") or {})
    code = component.get("code")
    working_directory, command = None, str(component["command"])
    if not code:
        working_directory, command = split_working_directory(command)
    env = {**(component.get("environment_variables") or {})}
    env.update(node.get("environment_variables") or {})
    return LocalStep(
        name=name,
        display_name=str(component.get("display_name") or node.get("display_name") or name),
        command=command,
        working_directory=working_directory,
        environment_variables={str(k): str(v) for k, v in env.items()},
        inputs=inputs,
        outputs=outputs,
        output_uris=output_uris,
        asset_inputs=asset_inputs,
        asset_outputs=asset_outputs,
        literal_inputs=literal_inputs,
        code=(yaml_dir / code).resolve() if code else None,
        instance_count=_resources(node),
        distribution=dict(node.get("distribution") or component.get("distribution") or {}),
        tags={str(k): str(v) for k, v in (node.get("tags") or {}).items()},
        timeout=_timeout(node),
    )


def _read_inputs(
    name: str, bindings: dict[str, Any], job_inputs: dict[str, Any]
) -> tuple[dict[str, tuple[str, str]], dict[str, tuple[str, str]], dict[str, str]]:
    """Inputs bound to other steps' outputs, registered data assets, and literal values."""
    inputs: dict[str, tuple[str, str]] = {}
    asset_inputs: dict[str, tuple[str, str]] = {}
    literal_inputs: dict[str, str] = {}
    for port, value in bindings.items():
        literal = _literal(value, job_inputs)
        if literal is not None:
            literal_inputs[port] = literal
            continue
        binding = _binding(value) or ""
        if binding.startswith("azureml:"):
            kind = value.get("type", "uri_folder") if isinstance(value, dict) else "uri_folder"
            asset_inputs[port] = (str(kind), binding)
            continue
        match = STEP_OUTPUT.match(binding)
        if not match:
            raise KedroAzureMLError(
                f"Step '{name}' input '{port}' is bound to {value!r}; run --local only "
                "runs inputs bound to other steps' outputs."
            )
        inputs[port] = (match.group(1), match.group(2))
    return inputs, asset_inputs, literal_inputs


def _read_outputs(
    component: dict[str, Any], bindings: dict[str, Any]
) -> tuple[dict[str, str | None], dict[str, str], set[str]]:
    """Each output port's job output (or None), the datastore URIs of mode B outputs, and the
    ports registered as data assets (Azure ML's folders: no completion marker of ours)."""
    outputs: dict[str, str | None] = {}
    output_uris: dict[str, str] = {}
    asset_outputs: set[str] = set()
    for port in component.get("outputs") or {}:
        value = bindings.get(port)
        if isinstance(value, dict) and value.get("name"):
            asset_outputs.add(port)
        binding = _binding(value) or ""
        parent = JOB_OUTPUT.match(binding)
        outputs[port] = parent.group(1) if parent else None
        if is_datastore_uri(binding):
            output_uris[port] = binding
    return outputs, output_uris, asset_outputs
