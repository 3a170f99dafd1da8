"""Which job a command runs: a named job of azureml.yml, narrowed and overridden by the CLI.

Every command that compiles (``compile``, ``run``, ``run --local``, ``schedule``) opens the
project, then calls :func:`select_job`, which returns the project as that job sees it: its
parameters (the job's ``params`` under ``--params``), its settings (experiment, default
compute), and its pipeline filtered by the job's and the command line's Kedro filters.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from kedro_azureml.compiler.job_settings import JobSettings
from kedro_azureml.compiler.render import CompileOptions
from kedro_azureml.config import DEFAULT_COMPUTE, AzureMLConfig
from kedro_azureml.config_jobs import JobConfig
from kedro_azureml.contract.param_inputs import deep_merge
from kedro_azureml.errors import ConfigError
from kedro_azureml.project.kedro_project import KedroProject


@dataclass(frozen=True)
class JobRequest:
    """What the command line asked for, besides the compile options."""

    job: str | None = None  # -j/--job
    pipeline: str | None = None  # -p/--pipeline, when given
    filters: dict[str, list[str]] = field(default_factory=dict)  # Pipeline.filter kwargs
    display_name: str | None = None
    experiment_name: str | None = None
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    inputs: dict[str, str] = field(default_factory=dict)  # --input name=value, as typed

    @property
    def changes_compile(self) -> bool:
        """Whether anything but ``inputs`` was asked: a compiled YAML cannot honour that."""
        return bool(
            self.job
            or self.filters
            or self.display_name
            or self.experiment_name
            or self.description
            or self.tags
        )


@dataclass
class JobSelection:
    project: KedroProject  # with the job's params, config and filtered pipeline
    options: CompileOptions
    grouping: str | None
    job: JobConfig | None


def job_config(config: AzureMLConfig, name: str | None) -> JobConfig | None:
    if name is None:
        return None
    if name not in config.jobs:
        known = ", ".join(sorted(config.jobs)) or "none: add a jobs: section to azureml.yml"
        raise ConfigError(f"No job '{name}' in azureml.yml (jobs: {known}).")
    return config.jobs[name]


def job_config_view(config: AzureMLConfig, job: JobConfig | None, request: JobRequest) -> Any:
    """azureml.yml as the job sees it: its experiment and its default compute."""
    experiment = request.experiment_name or (job.experiment_name if job else None)
    compute = job.compute if job else None
    if not experiment and not compute:
        return config
    update: dict[str, Any] = {}
    if experiment:
        update["experiment_name"] = experiment
    if compute:
        update["compute"] = {**config.azure.compute, DEFAULT_COMPUTE: config.azure.compute[compute]}
    return config.model_copy(update={"azure": config.azure.model_copy(update=update)})


def _pipeline_name(job: JobConfig | None, request: JobRequest, default: str) -> str:
    if job is None:
        return request.pipeline or default
    if request.pipeline and request.pipeline != job.pipeline.pipeline_name:
        raise ConfigError(
            f"Job '{request.job}' runs pipeline '{job.pipeline.pipeline_name}'; -p "
            f"{request.pipeline} contradicts it. Leave out -p, or change "
            f"jobs.{request.job}.pipeline.pipeline_name."
        )
    return job.pipeline.pipeline_name


def select_job(
    project: KedroProject,
    options: CompileOptions,
    request: JobRequest | None,
    grouping: str | None = None,
) -> JobSelection:
    """The project, compile options and grouping of the job ``request`` names (or none)."""
    from kedro_azureml.compiler.filters import check_cut_inputs, filter_pipeline

    request = request or JobRequest()
    job = job_config(project.config, request.job)
    pipeline_name = _pipeline_name(job, request, options.pipeline_name)
    params = deep_merge(job.params, options.params) if job else options.params
    project = replace(
        project,
        config=job_config_view(project.config, job, request),
        params=deep_merge(project.params, params),
    )
    job_filters = job.pipeline.filters() if job else {}
    if job_filters or request.filters:
        full = project.pipeline(pipeline_name)
        selected = filter_pipeline(
            full,
            pipeline_name=pipeline_name,
            job_filters=job_filters,
            cli_filters=request.filters,
            job_name=request.job,
        )
        check_cut_inputs(full, selected, project.dataset_config, _file_checker(project))
        project.selected_pipelines = {pipeline_name: selected}
    settings = JobSettings(
        name=request.job,
        description=request.description or (job.description if job else None),
        tags={**(job.tags if job else {}), **request.tags},
        timeout=job.limits.timeout if job and job.limits else None,
        continue_on_step_failure=job.continue_on_step_failure if job else None,
        force_rerun=job.force_rerun if job else None,
        inputs=_inputs(project, job, request),
    )
    options = replace(
        options,
        pipeline_name=pipeline_name,
        params=params,
        display_name=request.display_name
        or (job.display_name if job else None)
        or options.display_name,
        job=settings,
    )
    return JobSelection(project, options, grouping or (job.grouping if job else None), job)


def _inputs(project: KedroProject, job: JobConfig | None, request: JobRequest) -> Any:
    """The job's parameters as pipeline inputs, with this run's ``--input`` values."""
    from kedro_azureml.compiler.inputs import param_inputs
    from kedro_azureml.contract.param_inputs import resolve_input_values

    inputs = param_inputs(project.params, job.inputs, f"jobs.{request.job}.inputs") if job else ()
    values = resolve_input_values(
        {p.port: p.default for p in inputs}, request.inputs, {p.path: p.port for p in inputs}
    )
    return tuple(replace(p, default=values.get(p.port, p.default)) for p in inputs)


def input_values_of_yaml(job: dict[str, Any], given: dict[str, str]) -> dict[str, Any]:
    """``--input`` values for a compiled job's YAML (``run --local --from-yaml``), typed."""
    from kedro_azureml.compiler.naming import sanitize_name
    from kedro_azureml.contract.param_inputs import resolve_input_values

    declared = {
        port: value.get("default", value.get("value")) if isinstance(value, dict) else value
        for port, value in (job.get("inputs") or {}).items()
    }
    return resolve_input_values(declared, given, {name: sanitize_name(name) for name in given})


def _file_checker(project: KedroProject) -> Any:
    """Why a project file would be missing where the steps run, or None when it is there.

    In the code upload flow the steps see the code snapshot, so the file must also pass the
    snapshot's rules (``.amlignore``); the snapshot is scanned only when a file is asked about.
    """
    code_directory = project.config.azure.code_directory
    manifest: list[Any] = []

    def available(path: str) -> str | None:
        target = project.path / path
        if not target.exists():
            return "does not exist in the project"
        if code_directory is None:
            return None
        from kedro_azureml.project.snapshot import scan_code_directory

        root = (project.path / code_directory).resolve()
        if not manifest:
            manifest.append(scan_code_directory(root))
        try:
            rel = target.resolve().relative_to(root).as_posix()
        except ValueError:
            return f"is outside the code directory {root}"
        files = manifest[0].files
        if rel in files or any(f.startswith(f"{rel}/") for f in files):
            return None
        return f"is left out of the code snapshot by {manifest[0].ignore_file or 'its rules'}"

    return available
