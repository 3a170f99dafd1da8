"""Render a step plan as an ``azure-ai-ml`` PipelineJob.

The SDK is imported inside functions: importing it costs about a second and a half, and this
module is loaded whenever the CLI compiles anything.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from kedro_azureml.compiler.plan import JobPlan, StepPlan
from kedro_azureml.compiler.validate import validate_job
from kedro_azureml.config import (
    DEFAULT_COMPUTE,
    DISPLAY_NAME_MAX,
    AzureMLConfig,
    ComputeConfig,
    is_environment_reference,
)
from kedro_azureml.contract.bindings import job_output, step_io, step_output
from kedro_azureml.contract.storage_paths import datastore_output_path, temp_datastore_name
from kedro_azureml.errors import CompileError


@dataclass(frozen=True)
class Placeholder:
    """An Azure ML ``${{...}}`` binding, substituted by Azure ML before the shell sees it."""

    kind: str  # "inputs" or "outputs"
    port: str

    def __str__(self) -> str:
        return step_io(self.kind, self.port)


@dataclass(frozen=True)
class CompileOptions:
    pipeline_name: str = "__default__"
    env: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    env_vars: dict[str, str] = field(default_factory=dict)
    aml_env: str | None = None
    image: str | None = None
    # The job's code path as written into the YAML (relative to the YAML file); None when the
    # docker image flow bakes the code into the image.
    code: str | None = None
    load_versions: dict[str, str] = field(default_factory=dict)
    display_name: str | None = None


def join_command(tokens: Sequence[str | Placeholder]) -> str:
    """Quote every token for bash, leaving Azure ML bindings bare so Azure ML can fill them."""
    return " ".join(str(t) if isinstance(t, Placeholder) else shlex.quote(t) for t in tokens)


def step_command(step: StepPlan, options: CompileOptions) -> list[str | Placeholder]:
    tokens: list[str | Placeholder] = ["kedro", "azureml", "execute"]
    if options.env:
        tokens += ["--env", options.env]
    tokens += ["--pipeline", options.pipeline_name]
    for node_name in step.node_names:
        tokens += ["--node", node_name]
    for dataset, port in step.inputs.items():
        tokens += ["--az-input", dataset, Placeholder("inputs", port)]
    for dataset, port in step.outputs.items():
        tokens += ["--az-output", dataset, Placeholder("outputs", port)]
    if options.params:
        tokens += ["--params", json.dumps(options.params, sort_keys=True, ensure_ascii=False)]
    for dataset, version in sorted(options.load_versions.items()):
        tokens += ["--load-versions", f"{dataset}:{version}"]
    return tokens


def _environment(config: AzureMLConfig, options: CompileOptions) -> Any:
    from azure.ai.ml.entities import Environment

    if options.aml_env and options.image:
        raise CompileError("Give either --aml-env or --image, not both.")
    if options.aml_env and not is_environment_reference(options.aml_env):
        raise CompileError(
            f"--aml-env '{options.aml_env}' is not a valid environment reference: use "
            "name@latest or name:version."
        )
    image = options.image or (None if options.aml_env else config.docker.image)
    if options.image or (config.azure.code_directory is None and image):
        return Environment(image=image)
    name = options.aml_env or config.azure.environment_name
    if name:
        return name if name.startswith("azureml:") else f"azureml:{name}"
    if image:
        return Environment(image=image)
    raise CompileError(
        "No environment to run the steps in: set azure.environment_name or docker.image in "
        "azureml.yml, or pass --aml-env / --image."
    )


def _compute_kwargs(compute: ComputeConfig) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    if compute.cluster_name:
        kwargs["compute"] = compute.cluster_name
    if compute.serverless:  # explicit, or the step would inherit the pipeline's cluster
        kwargs["compute"] = "serverless"
    if compute.instance_type:
        kwargs["instance_type"] = compute.instance_type
    if compute.instance_count:
        kwargs["instance_count"] = compute.instance_count
    return kwargs


def _skip_quadratic_sdk_key_check() -> None:
    """Make the SDK's input-key conflict check linear for port names without dots.

    ``GroupInput.validate_conflict_keys`` compares every pair of a node's input names (for
    group inputs such as ``a.b`` against ``a.b.c``) and runs several times per node, at
    construction, validation and serialisation: 12.5 million comparisons for a fan-in node of
    5000 inputs, most of a 60 s compile. It can only fail when some name has a dot, and our
    port names never do (``validate_job`` checks them), so for dot-free names it returns at
    once, exactly as the full loop would; any other call goes to the SDK's own code.
    Installed once per process, so submitting the compiled job gains the same.
    """
    from azure.ai.ml.entities._inputs_outputs.group_input import GroupInput

    original = GroupInput.validate_conflict_keys
    if getattr(original, "_kedro_azureml_linear", False):
        return

    def validate_conflict_keys(keys: Any) -> None:
        keys = list(keys)
        if any("." in key for key in keys):
            original(keys)

    validate_conflict_keys._kedro_azureml_linear = True  # type: ignore[attr-defined]
    GroupInput.validate_conflict_keys = staticmethod(validate_conflict_keys)  # type: ignore[method-assign,assignment]


def render_job(plan: JobPlan, config: AzureMLConfig, options: CompileOptions) -> Any:
    """Build the PipelineJob for ``plan``; validated by the SDK and by our own binding check."""
    from azure.ai.ml import Output, command
    from azure.ai.ml.entities import PipelineJob

    _skip_quadratic_sdk_key_check()

    environment = _environment(config, options)
    docker_flow = options.code is None
    storage = config.azure.temporary_storage
    datastore = (
        temp_datastore_name(storage.account_name, storage.container)
        if storage is not None and config.uses_temporary_storage
        else None
    )
    job_ports = set(plan.job_outputs.values())
    producer = plan.producer_of()
    nodes: dict[str, Any] = {}
    for step in plan.steps:
        tokens = step_command(step, options)
        if docker_flow:
            tokens = ["cd", config.azure.working_directory, "&&", *tokens]
        command_line = join_command(tokens)
        if docker_flow:  # `&&` must stay a shell operator, not a quoted word.
            command_line = command_line.replace(" '&&' ", " && ", 1)
        compute = config.azure.compute[step.compute]
        kwargs = _compute_kwargs(compute)
        if step.distribution is not None:
            kwargs.update(step.distribution.sdk_kwargs())
        node = command(
            name=step.name,
            display_name=_display_name(step),
            command=command_line,
            environment=environment,
            code=options.code,
            inputs={
                port: _step_input(plan, dataset, port, producer.get(dataset))
                for dataset, port in step.inputs.items()
            },
            outputs={
                port: Output(type=plan.assets[dataset].type, name=plan.assets[dataset].name)
                if dataset in plan.assets
                else _step_output(port, datastore if port not in job_ports else None)
                for dataset, port in step.outputs.items()
            },
            environment_variables=dict(sorted(options.env_vars.items())) or None,
            is_deterministic=step.deterministic,
            tags={"kedro_nodes": ",".join(step.node_names)},
            **kwargs,
        )
        node.name = step.name
        # The SDK checks "every declared input is set" by rebuilding all inputs once per
        # input: quadratic in a step's inputs (a 5000-input fan-in: minutes, at compile and
        # again at submit). validate_job checks every input is bound, in one pass.
        node._validate_required_input_not_provided = False
        nodes[step.name] = node
    for dataset, port in plan.job_outputs.items():
        nodes[producer[dataset]].outputs[port] = job_output(port)
    default = config.azure.compute[DEFAULT_COMPUTE]
    job = PipelineJob(
        jobs=nodes,
        outputs={port: Output(type="uri_folder") for port in plan.job_outputs.values()},
        experiment_name=config.azure.experiment_name,
        display_name=_job_display_name(plan, options),
        compute=default.cluster_name or ("serverless" if default.serverless else None),
        tags={
            "kedro_pipeline": plan.pipeline_name,
            **({"kedro_env": options.env} if options.env else {}),
        },
    )
    validate_job(job, plan)
    return job


def _step_input(plan: JobPlan, dataset: str, port: str, producer: str | None) -> Any:
    from azure.ai.ml import Input

    asset = plan.assets.get(dataset)
    if producer is None:
        if asset is None:
            raise CompileError(f"Input '{dataset}' has no producing step.")
        return Input(type=asset.type, path=asset.input_path)
    return Input(type=asset.type if asset else "uri_folder", path=step_output(producer, port))


def _step_output(port: str, datastore: str | None) -> Any:
    """A uri_folder output; in mode B mounted from the temporary container's datastore."""
    from azure.ai.ml import Output

    if datastore is None:
        return Output(type="uri_folder")
    return Output(type="uri_folder", path=datastore_output_path(port, datastore), mode="rw_mount")


def _display_name(step: StepPlan) -> str:
    """What Studio shows for the step: its node, within Azure ML's 256-character limit."""
    if len(step.node_names) == 1:
        name = step.node_names[0]
        more = ""
    else:
        name, more = step.node_names[0], f" (+{len(step.node_names) - 1} nodes)"
    if len(name) + len(more) > DISPLAY_NAME_MAX:  # the full names stay in the kedro_nodes tag
        name = name[: DISPLAY_NAME_MAX - len(more) - 3] + "..."
    return name + more


def _job_display_name(plan: JobPlan, options: CompileOptions) -> str:
    name = options.display_name or plan.pipeline_name
    if len(name) > DISPLAY_NAME_MAX:
        raise CompileError(
            f"The job's display name (the pipeline name '{name[:60]}...') has {len(name)} "
            f"characters; Azure ML takes at most {DISPLAY_NAME_MAX}. Register the pipeline "
            "under a shorter name."
        )
    return name
