"""``run --local``: compile (or read) a job, then run its steps on this machine."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from kedro_azureml.atomic import write_text_atomically
from kedro_azureml.commands.compile import compile_to_file, read_job_yaml
from kedro_azureml.compiler.render import CompileOptions
from kedro_azureml.errors import KedroAzureMLError
from kedro_azureml.project.kedro_project import KedroProject

RUNS_DIR = ".kedro-azureml/runs"


def new_run_dir(project_path: Path, pipeline_name: str) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = project_path / RUNS_DIR / f"{stamp}-{pipeline_name.strip('_') or 'default'}"
    run_dir, suffix = base, 1
    while run_dir.exists():
        suffix += 1
        run_dir = base.with_name(f"{base.name}-{suffix}")
    run_dir.mkdir(parents=True)
    return run_dir


def run_local(
    project_path: Path,
    options: CompileOptions,
    *,
    grouping: str | None = None,
    from_yaml: Path | None = None,
    max_workers: int | None = None,
    mlflow: bool = True,
    subscription_id: str | None = None,
    console: Any = None,
) -> bool:
    """Compile (unless given a YAML) and run the job's steps here; True when all succeeded.

    ``subscription_id`` (``-s``) is needed only to download data asset inputs.
    """
    from rich.console import Console

    from kedro_azureml.local.job import read_steps
    from kedro_azureml.local.report import print_report, progress_printer
    from kedro_azureml.local.runner import LocalJobRunner
    from kedro_azureml.project.kedro_project import open_project

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
    assets = None
    if any(step.asset_inputs for step in steps):
        project = project or open_project(project_path, options.env, options.params)
        assets = _workspace_assets(project, subscription_id)
    tracking = _local_tracking(job, project_path, run_dir, console) if mlflow else None
    runner = LocalJobRunner(
        steps,
        tracking=tracking,
        blob_folders=blob_folders,
        assets=assets,
        code_snapshot=_copy_code_snapshot,
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
    from kedro_azureml.cloud.blob_folders import blob_folders_from_environment
    from kedro_azureml.errors import ConfigError

    storage = project.config.azure.temporary_storage
    if storage is None:
        raise ConfigError(
            "The job passes data through the temporary Blob container, but azureml.yml has no "
            "azure.temporary_storage section."
        )
    return blob_folders_from_environment(storage.account_name, storage.container)


def _workspace_assets(project: KedroProject, subscription_id: str | None) -> Any:
    from kedro_azureml.cloud.assets import WorkspaceAssets

    return WorkspaceAssets(project.config.workspace(subscription_id))


def _copy_code_snapshot(code_directory: Path, destination: Path) -> None:
    """What Azure ML would upload of ``code_directory`` (``.amlignore`` rules, no empty files)."""
    from kedro_azureml.project.snapshot import copy_snapshot, scan_code_directory

    copy_snapshot(scan_code_directory(code_directory), destination)
