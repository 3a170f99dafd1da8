"""The compiler's front door: plain values in, a step plan and an SDK PipelineJob out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from kedro_azureml.compiler.grouping import group_nodes
from kedro_azureml.compiler.inputs import check_compile_time_uses, step_inputs
from kedro_azureml.compiler.plan import JobPlan, compute_alias, plan_job
from kedro_azureml.compiler.render import CompileOptions, render_job
from kedro_azureml.compiler.yaml_out import dump_yaml, job_to_dict
from kedro_azureml.config import DEFAULT_COMPUTE, AzureMLConfig
from kedro_azureml.contract.sdk_warnings import quiet_sdk

if TYPE_CHECKING:
    from azure.ai.ml.entities import PipelineJob
    from kedro.pipeline import Pipeline


def plan_pipeline(
    pipeline: Pipeline,
    config: AzureMLConfig,
    options: CompileOptions,
    dataset_config: Callable[[str], dict[str, Any] | None],
    *,
    grouping: str | None = None,
    params: dict[str, Any] | None = None,
) -> JobPlan:
    """Decide the steps and how each dataset travels, without importing the Azure ML SDK.

    Everything the job will do is decided here, from plain values: ``dataset_config`` gives a
    dataset's catalog entry (None for an undeclared one), ``params`` resolve distributed nodes'
    sizes, ``grouping`` overrides azure.grouping. ``compile --explain`` stops here, so it
    answers in a fraction of the time a full compile takes.
    """
    from kedro_azureml.distributed.spec import distribution_resolver

    aliases = set(config.azure.compute) - {DEFAULT_COMPUTE}
    groups = group_nodes(
        pipeline,
        grouping or config.azure.grouping,
        dataset_config,
        step_key=lambda node: compute_alias(node, aliases),  # one compute per step
    )
    return plan_job(
        pipeline,
        pipeline_name=options.pipeline_name,
        groups=groups,
        dataset_config=dataset_config,
        compute_aliases=set(config.azure.compute),
        distribution_of=distribution_resolver(params or {}),
        asset_versions=options.load_versions,
    )


def compile_pipeline(
    pipeline: Pipeline,
    config: AzureMLConfig,
    options: CompileOptions,
    dataset_config: Callable[[str], dict[str, Any] | None],
    *,
    grouping: str | None = None,
    params: dict[str, Any] | None = None,
) -> tuple[JobPlan, PipelineJob]:
    """Plan ``pipeline`` and render it as a validated azure-ai-ml PipelineJob.

    Pure: no project, session, network or credentials, so the same call serves ``compile``,
    ``run --local``, ``submit`` and tests. The plan comes back too: it says in Kedro's terms
    (nodes, datasets) what the SDK job says in Azure ML's.
    """
    plan = plan_pipeline(
        pipeline, config, options, dataset_config, grouping=grouping, params=params
    )
    options = render_options(pipeline, plan, options, params)
    return plan, render_job(plan, config, options)


def render_options(
    pipeline: Pipeline,
    plan: JobPlan,
    options: CompileOptions,
    params: dict[str, Any] | None = None,
) -> CompileOptions:
    """``options`` completed with what rendering ``plan`` needs from the pipeline: which steps
    read the parameters given as pipeline inputs. With the plan and the config, everything
    :func:`render_job` depends on."""
    if not options.job.inputs:
        return options
    check_compile_time_uses(pipeline, params or {}, options.job.inputs)
    reading = step_inputs(pipeline, plan.steps, options.job.inputs)
    return replace(options, job=replace(options.job, step_inputs=reading))


def job_yaml(job: PipelineJob, options: CompileOptions) -> str:
    """The YAML ``az ml job create -f`` and ``run --local`` read, the same on every machine.

    ``options.code`` is written as each step's code path (relative to where the YAML is
    written, so the file is portable); the SDK itself would write the compiling machine's
    absolute path.
    """
    with quiet_sdk():
        data = job_to_dict(job, options.code)
    return dump_yaml(data)
