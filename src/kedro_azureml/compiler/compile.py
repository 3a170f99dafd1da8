"""The compiler's front door: plain values in, a step plan and an SDK PipelineJob out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kedro_azureml.compiler.grouping import group_nodes
from kedro_azureml.compiler.plan import JobPlan, plan_job
from kedro_azureml.compiler.render import CompileOptions, render_job
from kedro_azureml.compiler.yaml_out import dump_yaml, job_to_dict
from kedro_azureml.config import AzureMLConfig
from kedro_azureml.contract.sdk_warnings import quiet_sdk


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
    return plan, render_job(plan, config, options)


def job_yaml(job: Any, options: CompileOptions) -> str:
    with quiet_sdk():
        data = job_to_dict(job, options.code)
    return dump_yaml(data)
