"""The steps behind the CLI commands: compile a project, write the YAML, run it locally.

Each function takes plain arguments and returns values, so the commands stay thin and the
behaviour is testable without click.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from kedro_azureml.atomic import write_text_atomically
from kedro_azureml.compiler.render import CompileOptions
from kedro_azureml.errors import CompileError, KedroAzureMLError
from kedro_azureml.project import KedroProject

RUNS_DIR = ".kedro-azureml/runs"


@dataclass
class CompiledJob:
    plan: Any  # JobPlan
    job: Any  # azure.ai.ml PipelineJob
    yaml_text: str
    seconds: float


def code_path_for(project: KedroProject, yaml_dir: Path) -> str | None:
    """The code directory as seen from the YAML file: relative, so the file is portable."""
    code_directory = project.config.azure.code_directory
    if code_directory is None:
        return None
    code = (project.path / code_directory).resolve()
    return Path(os.path.relpath(code, yaml_dir.resolve())).as_posix()


def compile_project(
    project: KedroProject,
    options: CompileOptions,
    *,
    yaml_dir: Path,
    grouping: str | None = None,
) -> CompiledJob:
    from kedro_azureml.catalog_check import check_dataset_types
    from kedro_azureml.compiler.compile import compile_pipeline, job_yaml

    started = time.perf_counter()
    pipeline = project.pipeline(options.pipeline_name)
    if not pipeline.nodes:
        raise CompileError(
            f"Pipeline '{options.pipeline_name}' has no nodes: there is no job to compile. "
            "Add nodes to it in pipeline_registry.py, or pick another with -p."
        )
    check_dataset_types(pipeline.datasets(), project.dataset_config, project.env)
    # Steps always name their env: conf/local (Kedro's default run env) is never uploaded.
    options = replace(options, env=options.env or project.env)
    yaml_code = options.code
    if options.code is None and project.config.azure.code_directory is not None:
        # The SDK resolves the code folder against the current directory: give it the real
        # folder, and write the path relative to the YAML file into the YAML.
        code_directory = (project.path / project.config.azure.code_directory).resolve()
        options = replace(options, code=str(code_directory))
        yaml_code = code_path_for(project, yaml_dir)
    plan, job = compile_pipeline(
        pipeline,
        project.config,
        options,
        project.dataset_config,
        grouping=grouping,
        params=project.params,
    )
    yaml_text = job_yaml(job, replace(options, code=yaml_code))
    return CompiledJob(plan, job, yaml_text, time.perf_counter() - started)


def new_run_dir(project_path: Path, pipeline_name: str) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = project_path / RUNS_DIR / f"{stamp}-{pipeline_name.strip('_') or 'default'}"
    run_dir, suffix = base, 1
    while run_dir.exists():
        suffix += 1
        run_dir = base.with_name(f"{base.name}-{suffix}")
    run_dir.mkdir(parents=True)
    return run_dir


def read_job_yaml(path: Path) -> dict[str, Any]:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open() as stream:
        data = yaml.load(stream, Loader=loader)
    return data if isinstance(data, dict) else {}


def compile_to_file(
    project_path: Path,
    output: Path,
    options: CompileOptions,
    *,
    grouping: str | None = None,
    project: KedroProject | None = None,
) -> CompiledJob:
    from kedro_azureml.project import open_project

    project = project or open_project(project_path, options.env, options.params)
    compiled = compile_project(project, options, yaml_dir=output.parent, grouping=grouping)
    write_text_atomically(output, compiled.yaml_text)
    return compiled


def run_local(
    project_path: Path,
    options: CompileOptions,
    *,
    grouping: str | None = None,
    from_yaml: Path | None = None,
    max_workers: int | None = None,
    mlflow: bool = True,
    console: Any = None,
) -> bool:
    """Compile (unless given a YAML) and run the job's steps here; True when all succeeded."""
    from rich.console import Console

    from kedro_azureml.local.job import read_steps
    from kedro_azureml.local.report import print_report, progress_printer
    from kedro_azureml.local.runner import LocalJobRunner
    from kedro_azureml.project import open_project

    console = console or Console()
    run_dir = new_run_dir(project_path, options.pipeline_name)
    project = None
    if from_yaml is None:
        yaml_path = run_dir / "pipeline.yaml"
        project = open_project(project_path, options.env, options.params)
        compiled = compile_to_file(
            project_path, yaml_path, options, grouping=grouping, project=project
        )
        console.print(
            f"Compiled {len(compiled.plan.steps)} steps in {compiled.seconds:.2f}s -> {yaml_path}",
            highlight=False,
        )
    else:
        yaml_path = from_yaml.resolve()
    job = read_job_yaml(yaml_path)
    steps = read_steps(job, yaml_path.parent)
    blob_folders = None
    if any(step.output_uris for step in steps):
        project = project or open_project(project_path, options.env, options.params)
        blob_folders = _temporary_blob_folders(project)
    asset_workspace = None
    if any(step.asset_inputs for step in steps):
        project = project or open_project(project_path, options.env, options.params)
        asset_workspace = project.config.workspace()
    tracking = _local_tracking(job, project_path, run_dir, console) if mlflow else None
    runner = LocalJobRunner(
        steps,
        tracking=tracking,
        blob_folders=blob_folders,
        asset_workspace=asset_workspace,
        run_dir=run_dir,
        project_dir=project_path,
        max_workers=max_workers,
        on_change=progress_printer(console, len(steps)),
    )
    result = runner.run()
    print_report(console, result)
    write_text_atomically(run_dir / "summary.json", result.to_json())
    return result.succeeded


def _local_tracking(job: dict[str, Any], project_path: Path, run_dir: Path, console: Any) -> Any:
    from kedro_azureml.local.tracking import start_local_tracking

    try:
        tracking = start_local_tracking(
            job, runs_root=(project_path / RUNS_DIR).parent, run_dir=run_dir
        )
    except KedroAzureMLError as exc:
        console.print(f"[yellow]MLflow tracking is off for this run:[/] {exc}", highlight=False)
        return None
    if tracking:
        console.print(
            f"MLflow: run {tracking.run_id} (one child run per step) in {tracking.tracking_uri}",
            highlight=False,
        )
    return tracking


def _temporary_blob_folders(project: KedroProject) -> Any:
    from kedro_azureml.errors import ConfigError
    from kedro_azureml.temp_storage import blob_folders_from_environment

    storage = project.config.azure.temporary_storage
    if storage is None:
        raise ConfigError(
            "The job passes data through the temporary Blob container, but azureml.yml has no "
            "azure.temporary_storage section."
        )
    return blob_folders_from_environment(storage.account_name, storage.container)


def submit(project_path: Path, options: CompileOptions, **kwargs: Any) -> bool:
    """Submit to Azure ML (see :mod:`kedro_azureml.submit`); True when it went as asked."""
    from kedro_azureml.submit import SubmitSettings, submit_project

    return submit_project(project_path, options, SubmitSettings(**kwargs))
