"""Settings of one Azure ML pipeline job that a named job (or the command line) chooses.

Plain values, carried by ``CompileOptions.job`` into the renderer: what the job is called and
filed as, its step limits, the pipeline settings, and the parameters exposed as job inputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ParamInput:
    """A Kedro parameter exposed as a typed input of the Azure ML pipeline job."""

    path: str  # dotted path into the resolved parameters: scoring.weight
    port: str  # the Azure ML input name: scoring_weight
    type: str  # number | integer | string | boolean
    default: Any  # the resolved value when compiled


@dataclass(frozen=True)
class JobSettings:
    name: str | None = None  # the job's name in azureml.yml, when one was chosen
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    timeout: int | None = None  # seconds per step: every step's limits.timeout
    continue_on_step_failure: bool | None = None
    force_rerun: bool | None = None
    inputs: tuple[ParamInput, ...] = ()
    # step name -> the inputs its nodes read; filled in by the compiler from the plan
    step_inputs: dict[str, tuple[ParamInput, ...]] = field(default_factory=dict)

    def job_tags(self, plugin_tags: dict[str, str]) -> dict[str, str]:
        """The user's tags plus the plugin's own, which win: tools find jobs by them."""
        own = {**plugin_tags, **({"kedro_job": self.name} if self.name else {})}
        return {**self.tags, **own}

    def pipeline_inputs(self) -> dict[str, Any] | None:
        return {param.port: param.default for param in self.inputs} or None

    def step_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of every step's ``command()``."""
        return {"timeout": self.timeout} if self.timeout else {}


def apply_job_settings(job: Any, settings: JobSettings) -> None:
    """Pipeline-level settings, and each step's parameter inputs bound to the job's inputs.

    A literal step input can only be bound to a pipeline input once the PipelineJob exists:
    the SDK binds ``node.inputs.<port> = job.inputs.<port>`` (attribute, not item: an item
    assignment copies the value) as ``${{parent.inputs.port}}``.
    """
    if settings.continue_on_step_failure is not None:
        job.settings.continue_on_step_failure = settings.continue_on_step_failure
    if settings.force_rerun is not None:
        job.settings.force_rerun = settings.force_rerun
    for step, params in settings.step_inputs.items():
        for param in params:
            setattr(job.jobs[step].inputs, param.port, job.inputs[param.port])
