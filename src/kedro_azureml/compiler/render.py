"""Render a step plan as an ``azure-ai-ml`` PipelineJob.

The SDK is imported inside functions: importing it costs about a second and a half, and this
module is loaded whenever the CLI compiles anything.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kedro_azureml.compiler.job_settings import JobSettings, apply_job_settings
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
from kedro_azureml.contract.node_selection import NAMES_BUDGET, encode_node_selection
from kedro_azureml.contract.sdk_warnings import quiet_sdk
from kedro_azureml.contract.storage_paths import datastore_output_path, temp_datastore_name
from kedro_azureml.contract.working_directory import in_working_directory
from kedro_azureml.errors import CompileError

if TYPE_CHECKING:
    from azure.ai.ml.entities import PipelineJob


@dataclass(frozen=True)
class Placeholder:
    """An Azure ML ``${{...}}`` binding, substituted by Azure ML before the shell sees it."""

    kind: str  # "inputs" or "outputs"
    port: str
    quoted: bool = False  # a literal input's value: one shell word, whatever it holds

    def __str__(self) -> str:
        binding = step_io(self.kind, self.port)
        return f"'{binding}'" if self.quoted else binding


@dataclass(frozen=True)
class CompileOptions:
    pipeline_name: str = "__default__"
    env: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    env_vars: dict[str, str] = field(default_factory=dict)
    aml_env: str | None = None
    image: str | None = None
    # The folder uploaded as the steps' code, instead of azure.code_directory (the SDK resolves
    # it against the current directory). None: azure.code_directory decides, and null there
    # means the docker image flow, where the code is baked into the image.
    code: str | None = None
    load_versions: dict[str, str] = field(default_factory=dict)
    display_name: str | None = None
    job: JobSettings = field(default_factory=JobSettings)  # a named job's settings


@dataclass(frozen=True)
class StepFlow:
    """How a step finds the project: decided once per compile, so the command, the code and
    the environment of every step agree.

    Code upload flow: Azure ML uploads ``code`` and runs the command in it. Docker image flow
    (``code_directory: ~``): the project is in the image at ``working_directory``, so the
    command first changes into it, and the image is the environment.
    """

    code: str | None  # what the SDK uploads; None in the docker image flow
    working_directory: str | None  # where the docker image flow runs the command

    @classmethod
    def decide(cls, config: AzureMLConfig, options: CompileOptions) -> StepFlow:
        code = options.code if options.code is not None else config.azure.code_directory
        if code is None:
            return cls(code=None, working_directory=config.azure.working_directory)
        return cls(code=code, working_directory=None)

    @property
    def uses_image(self) -> bool:
        return self.code is None


_BINDING_START = "${{"


def join_command(tokens: Sequence[str | Placeholder]) -> str:
    """Quote every token for bash, leaving Azure ML bindings bare so Azure ML can fill them."""
    return " ".join(str(t) if isinstance(t, Placeholder) else shlex.quote(t) for t in tokens)


def step_command(
    step: StepPlan, options: CompileOptions, pipeline_nodes: Sequence[str] = ()
) -> list[str | Placeholder]:
    """The ``kedro azureml execute`` command of one step, as tokens for :func:`join_command`.

    Azure ML replaces every ``${{...}}`` in a command, quoted or not, before the shell runs
    it: a value holding one would reach the step changed. ``--params`` escapes it in its JSON;
    any other value holding one is refused.

    The command must stay short whatever the pipeline's size (see
    ``contract.node_selection``): a step of many nodes names them by a reference into
    ``pipeline_nodes`` (all the pipeline's node names), and a command still too long (e.g.
    thousands of datasets crossing into one step) is a CompileError saying what to change.
    """

    def literal(what: str, value: str) -> str:
        if _BINDING_START in value:
            raise CompileError(
                f"Step '{step.name}': {what} {value!r} holds '{_BINDING_START}', which Azure ML "
                "replaces in a step's command with its own values, so the step would get "
                f"another value. Remove '{_BINDING_START}' from it."
            )
        return value

    tokens: list[str | Placeholder] = ["kedro", "azureml", "execute"]
    if options.env:
        tokens += ["--env", literal("the environment", options.env)]
    tokens += ["--pipeline", literal("the pipeline name", options.pipeline_name)]
    nodes: list[str | Placeholder] = []
    for node_name in step.node_names:
        nodes += ["--node", literal("the node name", node_name)]
    if pipeline_nodes and len(join_command(nodes)) > NAMES_BUDGET:
        nodes = ["--nodes", encode_node_selection(pipeline_nodes, step.node_names)]
    tokens += nodes
    for dataset, port in step.inputs.items():
        tokens += ["--az-input", literal("the dataset name", dataset), Placeholder("inputs", port)]
    for dataset, port in step.outputs.items():
        tokens += [
            "--az-output",
            literal("the dataset name", dataset),
            Placeholder("outputs", port),
        ]
    params = ""
    if options.params:
        params = json.dumps(options.params, sort_keys=True, ensure_ascii=False)
        # Only JSON strings can hold "${{"; \u0024 is "$" to any JSON reader.
        tokens += ["--params", params.replace(_BINDING_START, "\\u0024{{")]
    for dataset, version in sorted(options.load_versions.items()):
        tokens += ["--load-versions", literal("the --load-versions item", f"{dataset}:{version}")]
    for param in options.job.step_inputs.get(step.name, ()):
        tokens += ["--param-input", param.path, param.type]
        tokens.append(Placeholder("inputs", param.port, quoted=True))
    _check_command_size(step, tokens, params)
    return tokens


MAX_COMMAND_BYTES = 96 * 1024
"""Linux refuses a single argument over 128 KiB (``bash -c <command>`` is one); the rest is
headroom for folder paths longer than BINDING_BYTES."""
BINDING_BYTES = 160
"""About what one ``${{inputs.x}}`` becomes: Azure ML mounts at ~80 characters plus the
port; run --local uses its run folder (the project's path plus ~60) plus step and port."""


def _check_command_size(step: StepPlan, tokens: list[str | Placeholder], params: str) -> None:
    bindings = sum(isinstance(token, Placeholder) for token in tokens)
    size = len(join_command(tokens).encode("utf-8", "surrogatepass")) + bindings * BINDING_BYTES
    if size <= MAX_COMMAND_BYTES:
        return
    if len(params) * 2 > size:
        cause = f"--params takes {len(params) // 1024} KiB of it"
        advice = (
            "Pass fewer or shorter --params, e.g. a file path in a parameter that the node "
            "reads, or put the values in conf/base/parameters.yml."
        )
    else:
        cause = (
            f"{len(step.inputs)} datasets cross into it and {len(step.outputs)} out of it, "
            "each an input or output folder on the command line"
        )
        advice = (
            "Group the pipeline so that fewer datasets cross this step's boundary (e.g. put "
            "the nodes that make its inputs into its namespace, or use --group-by tag with "
            "group.<name> tags), or pass fewer, larger datasets (e.g. one dict or "
            "PartitionedDataset instead of thousands)."
        )
    raise CompileError(
        f"Step '{step.name}' would run a command of about {size // 1024} KiB, and a step's "
        f"command must stay under {MAX_COMMAND_BYTES // 1024} KiB (Linux refuses an argument "
        f"over 128 KiB, so neither Azure ML nor run --local could start it): {cause}. {advice}"
    )


def _environment(config: AzureMLConfig, options: CompileOptions, flow: StepFlow) -> Any:
    from azure.ai.ml.entities import Environment

    if options.aml_env and options.image:
        raise CompileError("Give either --aml-env or --image, not both.")
    if options.aml_env and not is_environment_reference(options.aml_env):
        raise CompileError(
            f"--aml-env '{options.aml_env}' is not a valid environment reference: use "
            "name@latest or name:version."
        )
    image = options.image or (None if options.aml_env else config.docker.image)
    if options.image or (flow.uses_image and image):
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


def render_job(plan: JobPlan, config: AzureMLConfig, options: CompileOptions) -> PipelineJob:
    """Build the PipelineJob for ``plan``; validated by the SDK and by our own binding check."""
    with quiet_sdk():  # the SDK warns about its experimental classes as it is imported
        import azure.ai.ml  # noqa: F401
    with quiet_sdk():  # imported now, so its notices are skipped cheaply (see quiet_sdk)
        return _render_job(plan, config, options, StepFlow.decide(config, options))


def _render_job(
    plan: JobPlan, config: AzureMLConfig, options: CompileOptions, flow: StepFlow
) -> PipelineJob:
    from azure.ai.ml import Input, Output, command
    from azure.ai.ml.entities import PipelineJob

    _skip_quadratic_sdk_key_check()

    environment = _environment(config, options, flow)
    storage = config.azure.temporary_storage
    datastore = (
        temp_datastore_name(storage.account_name, storage.container)
        if storage is not None and config.uses_temporary_storage
        else None
    )
    job_ports = set(plan.job_outputs.values())
    producer = plan.producer_of()
    nodes: dict[str, Any] = {}
    pipeline_nodes = [name for step in plan.steps for name in step.node_names]
    for step in plan.steps:
        command_line = join_command(step_command(step, options, pipeline_nodes))
        if flow.working_directory is not None:
            command_line = in_working_directory(flow.working_directory, command_line)
        compute = config.azure.compute[step.compute]
        kwargs = _compute_kwargs(compute)
        if step.distribution is not None:
            kwargs.update(step.distribution.sdk_kwargs())
        node = command(
            name=step.name,
            display_name=_display_name(step),
            command=command_line,
            environment=environment,
            code=flow.code,
            inputs={
                **{
                    port: _step_input(plan, dataset, port, producer.get(dataset))
                    for dataset, port in step.inputs.items()
                },
                **{p.port: Input(type=p.type) for p in options.job.step_inputs.get(step.name, ())},
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
            **options.job.step_kwargs(),
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
        description=options.job.description,
        compute=default.cluster_name or ("serverless" if default.serverless else None),
        inputs=options.job.pipeline_inputs(),
        tags=options.job.job_tags(
            {
                "kedro_pipeline": plan.pipeline_name,
                **({"kedro_env": options.env} if options.env else {}),
            }
        ),
    )
    apply_job_settings(job, options.job)
    validate_job(job, plan)
    return job


def _step_input(plan: JobPlan, dataset: str, port: str, producer: str | None) -> Any:
    from azure.ai.ml import Input

    asset = plan.assets.get(dataset)
    if producer is None:
        # The plan gives a step an input only for data another step writes, or a data asset.
        assert asset is not None, f"step input '{dataset}' is neither produced nor an asset"
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
