"""Compile a Kedro project into an Azure ML job, and write its YAML.

Each function takes plain arguments and returns values, so the commands stay thin and the
behaviour is testable without click.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kedro_azureml.atomic import write_text_atomically
from kedro_azureml.commands.jobs import JobRequest, select_job
from kedro_azureml.compiler.plan import JobPlan
from kedro_azureml.compiler.render import CompileOptions
from kedro_azureml.errors import CompileError, KedroAzureMLError
from kedro_azureml.project.kedro_project import KedroProject

if TYPE_CHECKING:
    from azure.ai.ml.entities import PipelineJob


@dataclass
class CompiledJob:
    plan: JobPlan
    built_job: PipelineJob | None  # None when the YAML came from the compile cache
    yaml_text: str
    seconds: float
    env: str = ""  # the Kedro env compiled with, which every step loads
    env_origin: str = ""
    cache_key: str | None = None  # the compile cache's key of ``yaml_text``, when on

    @property
    def job(self) -> PipelineJob:
        """The SDK job; only a compile without the cache (``use_cache=False``) has one."""
        if self.built_job is None:
            raise KedroAzureMLError("This job's YAML came from the compile cache: no SDK job.")
        return self.built_job

    @property
    def env_note(self) -> str:
        """One line for the user: which config decided this job and what the steps load."""
        return env_note(self.env, self.env_origin)


def env_note(env: str, env_origin: str) -> str:
    origin = f" ({env_origin})" if env_origin and env_origin != "-e" else ""
    return (
        f"Kedro environment '{env}'{origin}: its config decided this job, and every step "
        f"loads it (--env {env})."
    )


def check_environment_uploaded(project: KedroProject) -> None:
    """Refuse, at compile, a Kedro env the steps could not load on Azure ML.

    In the code upload flow the steps read their config from the uploaded snapshot. An env
    folder the ignore rules leave out (``conf/local/`` always is, by ``init``'s .amlignore
    and Kedro's .gitignore), or one holding only empty files (Azure ML drops them), would make
    every step fail with MissingConfigException long after submission.
    """
    if project.config.azure.code_directory is None:
        return  # docker image flow: the image holds the project, nothing is uploaded
    from kedro_azureml.project.snapshot import scan_code_directory

    root = (project.path / project.config.azure.code_directory).resolve()
    manifest = None
    for env in dict.fromkeys((project.base_env, project.env)):
        try:
            folder = (project.env_conf_dir.parent / env).resolve().relative_to(root).as_posix()
        except ValueError:
            continue  # the conf lives outside the code directory: not uploaded by us
        manifest = manifest or scan_code_directory(root)
        if any(name.startswith(f"{folder}/") for name in manifest.files):
            continue
        rules = manifest.ignore_file or "Azure ML's rules"
        raise CompileError(
            f"Kedro environment '{env}' cannot be used on Azure ML: {folder}/ is left out of the "
            f"code upload ({rules} excludes it, or it holds only empty files, which Azure ML "
            f"drops), so every step would fail to load its config. Keep {folder}/ for "
            "`kedro run` on this machine and put what Azure ML needs in an environment that "
            "is uploaded (e.g. conf/azureml/ and -e azureml), or stop excluding it in "
            f"{manifest.ignore_file or '.amlignore'} if it holds no secrets."
        )


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
    use_cache: bool = False,
    secrets: dict[str, str] | None = None,
) -> CompiledJob:
    """Compile ``project``'s pipeline. With ``use_cache``, a job the SDK already built and
    validated from the very same plan, config and options (see ``compile_cache``) is not built
    again: the result then holds its YAML and no SDK job, for commands that need only the YAML.

    A job that would hold a secret (``secrets``, default: those this machine's environment
    and the project's credentials hold, or a secret's shape) is refused before anything is
    written, the cache included.
    """
    from kedro_azureml.commands.compile_cache import (
        cache_enabled,
        compile_key,
        read_cached,
        write_cached,
    )
    from kedro_azureml.commands.job_secrets import (
        check_options_hold_no_secret,
        check_yaml_holds_no_secret,
        known_secrets,
    )
    from kedro_azureml.compiler.compile import job_yaml, plan_pipeline, render_options
    from kedro_azureml.compiler.render import render_job
    from kedro_azureml.project.catalog_check import check_dataset_types
    from kedro_azureml.project.snapshot import scan_code_directory
    from kedro_azureml.project.snapshot_check import check_code_snapshot

    started = time.perf_counter()
    if secrets is None:
        secrets = known_secrets(credentials=project.credential_secrets)
    check_options_hold_no_secret(options, secrets, "compiled")
    pipeline = project.pipeline(options.pipeline_name)
    if not pipeline.nodes:
        raise CompileError(
            f"Pipeline '{options.pipeline_name}' has no nodes: there is no job to compile. "
            "Add nodes to it in pipeline_registry.py, or pick another with -p."
        )
    check_dataset_types(pipeline.datasets(), project.dataset_config, project.env)
    check_environment_uploaded(project)
    # Steps load exactly the env the project was opened with (never Kedro's default run env).
    options = replace(options, env=project.env)
    yaml_code = options.code
    if options.code is None and project.config.azure.code_directory is not None:
        # The SDK resolves the code folder against the current directory: give it the real
        # folder, and write the path relative to the YAML file into the YAML.
        code_directory = (project.path / project.config.azure.code_directory).resolve()
        check_code_snapshot(scan_code_directory(code_directory), project.package_name)
        options = replace(options, code=str(code_directory))
        yaml_code = code_path_for(project, yaml_dir)
    plan = plan_pipeline(
        pipeline,
        project.config,
        options,
        project.dataset_config,
        grouping=grouping,
        params=project.params,
    )
    options = render_options(pipeline, plan, options, project.params)
    # Hashing a 1000-step plan takes ~0.1 s: only for a cache that is on.
    use_cache = use_cache and cache_enabled()
    key = compile_key(plan, project.config, options, yaml_code) if use_cache else None
    yaml_text = read_cached(project.path, key)
    job = None
    if yaml_text is None:
        job = render_job(plan, project.config, options)
        yaml_text = job_yaml(job, replace(options, code=yaml_code))
    check_yaml_holds_no_secret(yaml_text, secrets)  # before the cache or a file keeps it
    if job is not None:
        write_cached(project.path, key, yaml_text)
    seconds = time.perf_counter() - started
    return CompiledJob(plan, job, yaml_text, seconds, project.env, project.env_origin, key)


def read_job_yaml(path: Path) -> dict[str, Any]:
    """A compiled job YAML as a dict; a file that is not one is a message, not a traceback."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        with path.open(encoding="utf-8") as stream:
            data = yaml.load(stream, Loader=loader)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        problem = " ".join(str(exc).split())
        raise KedroAzureMLError(
            f"{path} is not valid YAML ({problem[:300]}). Give --from-yaml a job YAML written "
            "by `kedro azureml compile`."
        ) from None
    if not isinstance(data, dict):
        raise KedroAzureMLError(
            f"{path} holds {type(data).__name__ if data is not None else 'nothing'}, not an "
            "Azure ML pipeline job. Give --from-yaml a job YAML written by "
            "`kedro azureml compile`."
        )
    return data


def compile_to_file(
    project_path: Path,
    output: Path | None,
    options: CompileOptions,
    *,
    grouping: str | None = None,
    project: KedroProject | None = None,
    job: JobRequest | None = None,
    use_cache: bool = True,
) -> CompiledJob:
    """Compile and write the YAML to ``output``; with None, only compile (for stdout), the
    code path in the YAML then being relative to the current folder. The result may hold
    no SDK job (see ``compile_project``'s ``use_cache``)."""
    from kedro_azureml.project.kedro_project import open_project

    project = project or open_project(project_path, options.env, options.params)
    selected = select_job(project, options, job, grouping)
    yaml_dir = output.parent if output is not None else Path.cwd()
    compiled = compile_project(
        selected.project,
        selected.options,
        yaml_dir=yaml_dir,
        grouping=selected.grouping,
        use_cache=use_cache,
    )
    if output is not None:
        write_text_atomically(output, compiled.yaml_text)
    return compiled


def write_graph(plan: JobPlan, path: Path) -> None:
    """Draw the step graph into ``path``, in the form its suffix names (see compile --graph)."""
    from kedro_azureml.compiler.graph import render_graph

    write_text_atomically(path, render_graph(plan, path.suffix))
