"""Render a step plan as an ``azure-ai-ml`` PipelineJob, and the job as YAML.

The SDK is imported inside functions: importing it costs about a second and a half, and this
module is loaded whenever the CLI compiles anything.
"""

from __future__ import annotations

import json
import math
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from kedro_azureml.compiler.plan import JobPlan, StepPlan
from kedro_azureml.config import DEFAULT_COMPUTE, AzureMLConfig, ComputeConfig
from kedro_azureml.errors import CompileError
from kedro_azureml.temp_storage import datastore_output_path

_BINDING = re.compile(r"\$\{\{\s*(inputs|outputs)\.([A-Za-z0-9_]+)\s*\}\}")


@dataclass(frozen=True)
class Placeholder:
    """An Azure ML ``${{...}}`` binding, substituted by Azure ML before the shell sees it."""

    kind: str  # "inputs" or "outputs"
    port: str

    def __str__(self) -> str:
        return f"${{{{{self.kind}.{self.port}}}}}"


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


def render_job(plan: JobPlan, config: AzureMLConfig, options: CompileOptions) -> Any:
    """Build the PipelineJob for ``plan``; validated by the SDK and by our own binding check."""
    from azure.ai.ml import Output, command
    from azure.ai.ml.entities import PipelineJob

    environment = _environment(config, options)
    docker_flow = options.code is None
    temporary = config.uses_temporary_storage
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
                else _step_output(port, temporary and port not in job_ports)
                for dataset, port in step.outputs.items()
            },
            environment_variables=dict(sorted(options.env_vars.items())) or None,
            is_deterministic=step.deterministic,
            tags={"kedro_nodes": ",".join(step.node_names)},
            **kwargs,
        )
        node.name = step.name
        nodes[step.name] = node
    for dataset, port in plan.job_outputs.items():
        nodes[producer[dataset]].outputs[port] = f"${{{{parent.outputs.{port}}}}}"
    default = config.azure.compute[DEFAULT_COMPUTE]
    job = PipelineJob(
        jobs=nodes,
        outputs={port: Output(type="uri_folder") for port in plan.job_outputs.values()},
        experiment_name=config.azure.experiment_name,
        display_name=options.display_name or plan.pipeline_name,
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
    binding = f"${{{{parent.jobs.{producer}.outputs.{port}}}}}"
    return Input(type=asset.type if asset else "uri_folder", path=binding)


def _step_output(port: str, temporary: bool) -> Any:
    """A uri_folder output; in mode B mounted from the temporary container's datastore."""
    from azure.ai.ml import Output

    if not temporary:
        return Output(type="uri_folder")
    return Output(type="uri_folder", path=datastore_output_path(port), mode="rw_mount")


def _display_name(step: StepPlan) -> str:
    if len(step.node_names) == 1:
        return step.node_names[0]
    return f"{step.node_names[0]} (+{len(step.node_names) - 1} nodes)"


def validate_job(job: Any, plan: JobPlan) -> None:
    """The SDK's validation of every kind of step, plus the checks the SDK does not make.

    The SDK validates each node through marshmallow schemas it rebuilds per node (about 20 ms
    a step: 20 s for 1000 steps). Steps of one shape (compute, resources, distribution,
    environment, code, which ports, determinism) differ only in names, ports and commands, so
    the SDK validates one step of each shape inside a job of those steps, and we check what
    varies, for every step: names, commands against declared ports, and every binding.
    """
    _check_steps(job, plan)
    representatives: dict[tuple[Any, ...], str] = {}
    for name, node in job.jobs.items():
        representatives.setdefault(_shape(node), name)
    result = _probe_job(job, sorted(representatives.values()))._validate()
    if not result.passed:
        raise CompileError(f"Azure ML rejected the compiled job:\n{result.error_messages}")


_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
_STEP_OUTPUT = re.compile(r"^\$\{\{parent\.jobs\.([a-z0-9_]+)\.outputs\.([a-z0-9_]+)\}\}$")
_PARENT_OUTPUT = re.compile(r"^\$\{\{parent\.outputs\.([a-z0-9_]+)\}\}$")


def _binding(port: Any) -> str:
    data = getattr(port, "_data", None)
    return str(getattr(data, "path", data) or "")


def _check_steps(job: Any, plan: JobPlan) -> None:
    jobs = job.jobs
    if [step.name for step in plan.steps] != list(jobs):
        raise CompileError("The compiled job's steps differ from the plan's.")
    for name, node in jobs.items():
        declared = {"inputs": set(node.inputs), "outputs": set(node.outputs)}
        for port in (name, *declared["inputs"], *declared["outputs"]):
            if not _NAME.match(port):
                raise CompileError(f"Step '{name}': '{port}' is not a valid Azure ML name.")
        for kind, port in _BINDING.findall(node.command):
            if port not in declared[kind]:
                raise CompileError(f"Step '{name}' uses ${{{{{kind}.{port}}}}} undeclared.")
        for port, value in node.inputs.items():
            if _binding(value).startswith("azureml:"):
                continue  # a registered data asset, mounted by Azure ML
            match = _STEP_OUTPUT.match(_binding(value))
            if not match or match.group(2) not in getattr(jobs.get(match.group(1)), "outputs", {}):
                raise CompileError(f"Step '{name}' input '{port}' is bound to no step output.")
        for port, value in node.outputs.items():
            parent = _PARENT_OUTPUT.match(_binding(value))
            if parent and parent.group(1) not in job.outputs:
                raise CompileError(f"Step '{name}' output '{port}' binds an undeclared job output.")
        if not (node.compute or job.compute):
            raise CompileError(f"Step '{name}' has no compute.")


def _shape(node: Any) -> tuple[Any, ...]:
    """What the SDK's schema validation of a step depends on, besides names and the command."""
    bound = tuple(
        sorted(_PARENT_OUTPUT.match(_binding(v)) is not None for v in node.outputs.values())
    )
    return (
        node.compute,
        repr(node.resources),
        type(node.distribution).__name__,
        repr(getattr(node.distribution, "_to_dict", lambda: None)()),
        repr(node.environment),
        node.code,
        bool(node.inputs),
        bound,
        tuple(sorted(node.environment_variables or {})),
        node.component.is_deterministic,
    )


def _probe_job(job: Any, names: list[str]) -> Any:
    """A job of the named steps only, with the job-level settings of ``job``."""
    from azure.ai.ml import Output
    from azure.ai.ml.entities import PipelineJob

    jobs = {name: job.jobs[name] for name in names}
    outputs = {
        parent.group(1): Output(type="uri_folder")
        for node in jobs.values()
        for value in node.outputs.values()
        if (parent := _PARENT_OUTPUT.match(_binding(value)))
    }
    return PipelineJob(
        jobs=jobs,
        outputs=outputs,
        experiment_name=job.experiment_name,
        display_name=job.display_name,
        compute=job.compute,
        tags=dict(job.tags or {}),
    )


def job_to_dict(job: Any, code: str | None) -> dict[str, Any]:
    """The job as the dict ``az ml job create -f`` reads, with a portable code path.

    The SDK writes ``code`` as an absolute path of the compiling machine; we write the path
    relative to the YAML file, so the file is the same on every machine.
    """
    data: dict[str, Any] = job._to_dict()
    for node in data.get("jobs", {}).values():
        component = node.get("component")
        if isinstance(component, dict) and "code" in component:
            component["code"] = code
    return data


def dump_yaml(data: dict[str, Any]) -> str:
    """Block-style YAML of ``data``, the same on every run.

    A small emitter for the plain values a job dict holds (dicts, lists, strings, numbers,
    booleans, None): five times faster than libyaml's dumper on a 1000-step job. A string is
    written plain only when YAML reads it back as that same string; otherwise it is written
    as a JSON string, which is a valid YAML double-quoted scalar. Anything else falls back
    to PyYAML.
    """
    lines: list[str] = []
    try:
        _emit_mapping(data, "", lines, _PlainStrings())
    except _NotPlain:
        import yaml

        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        return str(yaml.dump(data, Dumper=dumper, sort_keys=False, allow_unicode=True, width=1000))
    return "\n".join(lines) + "\n"


class _NotPlain(Exception):
    """A value the small emitter does not write; PyYAML does."""


class _PlainStrings:
    """Whether a string may be written unquoted: it must read back as the same string."""

    _SAFE = re.compile(r"^[A-Za-z_/.$][A-Za-z0-9_/.@:$ \-]*$")
    # Booleans and nulls of YAML 1.1 and 1.2 that PyYAML reads as strings: other readers don't.
    _WORDS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan"})

    def __init__(self) -> None:
        import yaml

        self._resolver = yaml.resolver.Resolver()
        self._scalar = yaml.ScalarNode
        self._seen: dict[str, str] = {}

    def __call__(self, value: str) -> str:
        written = self._seen.get(value)
        if written is None:
            plain = (
                bool(self._SAFE.match(value))
                and not value.endswith((" ", ":"))
                and ": " not in value
                and " #" not in value
                and value.lower() not in self._WORDS
                and self._resolver.resolve(self._scalar, value, (True, False))
                == "tag:yaml.org,2002:str"
            )
            written = value if plain else json.dumps(value)
            self._seen[value] = written
        return written


def _scalar(value: Any, strings: _PlainStrings) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return strings(value)
    if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
        return repr(value)
    raise _NotPlain(type(value).__name__)


def _emit_mapping(
    data: dict[Any, Any], indent: str, lines: list[str], strings: _PlainStrings
) -> None:
    for key, value in data.items():
        if not isinstance(key, str):
            raise _NotPlain("non-string key")
        head = f"{indent}{strings(key)}:"
        if isinstance(value, dict) and value:
            lines.append(head)
            _emit_mapping(value, indent + "  ", lines, strings)
        elif isinstance(value, list) and value:
            lines.append(head)
            _emit_items(value, indent + "  ", lines, strings)
        else:
            lines.append(f"{head} {_inline(value, strings)}")


def _emit_items(items: list[Any], indent: str, lines: list[str], strings: _PlainStrings) -> None:
    """``- item`` lines; a nested mapping or list starts on the dash's line."""
    for item in items:
        start = len(lines)
        if isinstance(item, dict) and item:
            _emit_mapping(item, indent + "  ", lines, strings)
        elif isinstance(item, list) and item:
            _emit_items(item, indent + "  ", lines, strings)
        else:
            lines.append(f"{indent}- {_inline(item, strings)}")
            continue
        lines[start] = f"{indent}- {lines[start][len(indent) + 2 :]}"


def _inline(value: Any, strings: _PlainStrings) -> str:
    if isinstance(value, dict | list):
        return "{}" if isinstance(value, dict) else "[]"  # only empty ones get here
    return _scalar(value, strings)
