"""Read a compiled Azure ML pipeline job (the YAML) into steps the local runner can execute.

Works on the plain YAML dict, not on SDK objects: the local runner must run exactly what
``az ml job create -f`` would receive, and must not pay the SDK's import time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kedro_azureml.contract.bindings import JOB_OUTPUT, STEP_OUTPUT
from kedro_azureml.contract.storage_paths import is_datastore_uri
from kedro_azureml.errors import KedroAzureMLError


@dataclass
class LocalStep:
    name: str
    display_name: str
    command: str
    environment_variables: dict[str, str]
    inputs: dict[str, tuple[str, str]]  # port -> (producing step, its output port)
    outputs: dict[str, str | None]  # port -> job output name, or None for a step-only output
    code: Path | None
    output_uris: dict[str, str] = field(default_factory=dict)  # port -> datastore URI (mode B)
    asset_inputs: dict[str, tuple[str, str]] = field(default_factory=dict)  # port -> (type, path)
    asset_outputs: set[str] = field(default_factory=set)  # ports registered as data assets
    instance_count: int = 1
    distribution: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def depends_on(self) -> set[str]:
        return {producer for producer, _ in self.inputs.values()}


def _binding(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("path")
    return value if isinstance(value, str) else None


def _resources(node: dict[str, Any]) -> int:
    resources = node.get("resources") or {}
    return int(resources.get("instance_count") or node.get("instance_count") or 1)


def read_steps(job: dict[str, Any], yaml_dir: Path) -> list[LocalStep]:
    if job.get("type") != "pipeline" or not isinstance(job.get("jobs"), dict):
        raise KedroAzureMLError("The YAML is not an Azure ML pipeline job (type: pipeline).")
    steps = []
    for name, node in job["jobs"].items():
        component = node.get("component") or {}
        if not isinstance(component, dict) or "command" not in component:
            raise KedroAzureMLError(f"Step '{name}' has no inline command component to run.")
        inputs = {}
        asset_inputs = {}
        for port, value in (node.get("inputs") or {}).items():
            if (_binding(value) or "").startswith("azureml:"):
                kind = value.get("type", "uri_folder") if isinstance(value, dict) else "uri_folder"
                asset_inputs[port] = (str(kind), str(_binding(value)))
                continue
            match = STEP_OUTPUT.match(_binding(value) or "")
            if not match:
                raise KedroAzureMLError(
                    f"Step '{name}' input '{port}' is bound to {value!r}; run --local only "
                    "runs inputs bound to other steps' outputs."
                )
            inputs[port] = (match.group(1), match.group(2))
        outputs: dict[str, str | None] = {}
        output_uris: dict[str, str] = {}
        asset_outputs = set()
        for port in component.get("outputs") or {}:
            value = (node.get("outputs") or {}).get(port)
            if isinstance(value, dict) and value.get("name"):
                asset_outputs.add(port)
            binding = _binding(value) or ""
            parent = JOB_OUTPUT.match(binding)
            outputs[port] = parent.group(1) if parent else None
            if is_datastore_uri(binding):
                output_uris[port] = binding
        code = component.get("code")
        env = {**(component.get("environment_variables") or {})}
        env.update(node.get("environment_variables") or {})
        steps.append(
            LocalStep(
                name=name,
                display_name=str(component.get("display_name") or node.get("display_name") or name),
                command=str(component["command"]),
                environment_variables={str(k): str(v) for k, v in env.items()},
                inputs=inputs,
                outputs=outputs,
                output_uris=output_uris,
                asset_inputs=asset_inputs,
                asset_outputs=asset_outputs,
                code=(yaml_dir / code).resolve() if code else None,
                instance_count=_resources(node),
                distribution=dict(node.get("distribution") or component.get("distribution") or {}),
                tags={str(k): str(v) for k, v in (node.get("tags") or {}).items()},
            )
        )
    known = {step.name for step in steps}
    for step in steps:
        unknown = step.depends_on - known
        if unknown:
            raise KedroAzureMLError(f"Step '{step.name}' reads from unknown step(s) {unknown}.")
    return steps
