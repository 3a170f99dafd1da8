"""Compile a Kedro project into an Azure ML job, and write its YAML.

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
from kedro_azureml.errors import CompileError
from kedro_azureml.project.kedro_project import KedroProject


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
    from kedro_azureml.compiler.compile import compile_pipeline, job_yaml
    from kedro_azureml.project.catalog_check import check_dataset_types
    from kedro_azureml.project.snapshot import scan_code_directory
    from kedro_azureml.project.snapshot_check import check_code_snapshot

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
        check_code_snapshot(scan_code_directory(code_directory), project.package_name)
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
    from kedro_azureml.project.kedro_project import open_project

    project = project or open_project(project_path, options.env, options.params)
    compiled = compile_project(project, options, yaml_dir=output.parent, grouping=grouping)
    write_text_atomically(output, compiled.yaml_text)
    return compiled
