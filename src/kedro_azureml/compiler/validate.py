"""Checks of a rendered job: the SDK's own schema validation, and the bindings it never checks."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from kedro_azureml.compiler.plan import JobPlan
from kedro_azureml.contract.bindings import JOB_OUTPUT, STEP_IO, STEP_OUTPUT, step_io
from kedro_azureml.errors import CompileError

if TYPE_CHECKING:
    from azure.ai.ml.entities import PipelineJob


def validate_job(job: PipelineJob, plan: JobPlan) -> None:
    """The SDK's validation of every kind of step, plus the checks the SDK does not make.

    The SDK validates each node through marshmallow schemas it rebuilds per node (about 20 ms
    a step: 20 s for 1000 steps). Steps of one shape (compute, resources, distribution,
    environment, code, which ports, determinism) differ only in names, ports and commands, so
    the SDK validates one step of each shape inside a job of those steps, and we check what
    varies, for every step: names, commands against declared ports, and every binding.

    The compiler never builds a job that fails these checks; they guard plans and jobs changed
    by hand (both are public objects) from reaching Azure ML, where the SDK checks none of them.
    """
    _check_steps(job, plan)
    representatives: dict[tuple[Any, ...], str] = {}
    for name, node in job.jobs.items():
        representatives.setdefault(_shape(node), name)
    result = _probe_job(job, sorted(representatives.values()))._validate()
    if not result.passed:
        raise CompileError(f"Azure ML rejected the compiled job:\n{result.error_messages}")


_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


def _binding(port: Any) -> str:
    data = getattr(port, "_data", None)
    return str(getattr(data, "path", data) or "")


def _check_steps(job: PipelineJob, plan: JobPlan) -> None:
    jobs = job.jobs
    if [step.name for step in plan.steps] != list(jobs):
        raise CompileError("The compiled job's steps differ from the plan's.")
    for name, node in jobs.items():
        declared = {"inputs": set(node.inputs), "outputs": set(node.outputs)}
        for port in (name, *declared["inputs"], *declared["outputs"]):
            if not _NAME.match(port):
                raise CompileError(f"Step '{name}': '{port}' is not a valid Azure ML name.")
        for kind, port in STEP_IO.findall(node.command):
            if port not in declared[kind]:
                raise CompileError(f"Step '{name}' uses {step_io(kind, port)} undeclared.")
        for port, value in node.inputs.items():
            if _binding(value).startswith("azureml:"):
                continue  # a registered data asset, mounted by Azure ML
            match = STEP_OUTPUT.match(_binding(value))
            if not match or match.group(2) not in getattr(jobs.get(match.group(1)), "outputs", {}):
                raise CompileError(f"Step '{name}' input '{port}' is bound to no step output.")
        for port, value in node.outputs.items():
            parent = JOB_OUTPUT.match(_binding(value))
            if parent and parent.group(1) not in job.outputs:
                raise CompileError(f"Step '{name}' output '{port}' binds an undeclared job output.")
        if not (node.compute or job.compute):
            raise CompileError(f"Step '{name}' has no compute.")


def _shape(node: Any) -> tuple[Any, ...]:
    """What the SDK's schema validation of a step depends on, besides names and the command."""
    bound = tuple(sorted(JOB_OUTPUT.match(_binding(v)) is not None for v in node.outputs.values()))
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


def _probe_job(job: PipelineJob, names: list[str]) -> PipelineJob:
    """A job of the named steps only, with the job-level settings of ``job``."""
    from azure.ai.ml import Output
    from azure.ai.ml.entities import PipelineJob

    jobs = {name: job.jobs[name] for name in names}
    outputs = {
        parent.group(1): Output(type="uri_folder")
        for node in jobs.values()
        for value in node.outputs.values()
        if (parent := JOB_OUTPUT.match(_binding(value)))
    }
    return PipelineJob(
        jobs=jobs,
        outputs=outputs,
        experiment_name=job.experiment_name,
        display_name=job.display_name,
        compute=job.compute,
        tags=dict(job.tags or {}),
    )
