"""The compiler's front door: plain values in, a step plan and an SDK PipelineJob out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from kedro_azureml.compiler.grouping import group_nodes
from kedro_azureml.compiler.inputs import check_compile_time_uses, step_inputs
from kedro_azureml.compiler.plan import JobPlan, plan_job
from kedro_azureml.compiler.render import CompileOptions, render_job
from kedro_azureml.compiler.yaml_out import dump_yaml, job_to_dict
from kedro_azureml.config import AzureMLConfig


def plan_pipeline(
    pipeline: Any,
    config: AzureMLConfig,
    options: CompileOptions,
    dataset_config: Callable[[str], dict[str, Any] | None],
    *,
    grouping: str | None = None,
    params: dict[str, Any] | None = None,
) -> JobPlan:
    from kedro_azureml.distributed.spec import distribution_resolver

    return plan_job(
        pipeline,
        pipeline_name=options.pipeline_name,
        groups=group_nodes(pipeline, grouping or config.azure.grouping, dataset_config),
        dataset_config=dataset_config,
        compute_aliases=set(config.azure.compute),
        distribution_of=distribution_resolver(params or {}),
        asset_versions=options.load_versions,
    )


def compile_pipeline(
    pipeline: Any,
    config: AzureMLConfig,
    options: CompileOptions,
    dataset_config: Callable[[str], dict[str, Any] | None],
    *,
    grouping: str | None = None,
    params: dict[str, Any] | None = None,
) -> tuple[JobPlan, Any]:
    plan = plan_pipeline(
        pipeline, config, options, dataset_config, grouping=grouping, params=params
    )
    if options.job.inputs:  # parameters as pipeline inputs: which steps read them
        check_compile_time_uses(pipeline, params or {}, options.job.inputs)
        reading = step_inputs(pipeline, plan.steps, options.job.inputs)
        options = replace(options, job=replace(options.job, step_inputs=reading))
    return plan, render_job(plan, config, options)


def job_yaml(job: Any, options: CompileOptions) -> str:
    return dump_yaml(job_to_dict(job, options.code))
