"""The ``kedro azureml`` commands. Each parses its options and calls one function.

Kedro imports this module for every ``kedro`` command of every project, so it imports only
click here; everything heavier is imported inside the command that needs it.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

ENV_HELP = "Kedro configuration environment to use (as in `kedro run`)."
PIPELINE_HELP = "Name of the registered pipeline to compile (as in `kedro run`)."
PARAMS_HELP = (
    "Override parameters: a JSON object, or Kedro's key=value syntax with dots for nesting "
    "(a.b=1,c=x)."
)


def _friendly_errors(func: F) -> F:
    """Our own errors become one clean CLI message instead of a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from kedro_azureml.errors import KedroAzureMLError

        try:
            return func(*args, **kwargs)
        except KedroAzureMLError as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper  # type: ignore[return-value]


def _project_path(metadata: Any) -> Path:
    return Path(getattr(metadata, "project_path", None) or Path.cwd())


def compile_options(func: F) -> F:
    """Options shared by `compile` and `run`, named as in `kedro run`.

    The command receives them parsed, as one ``request`` (CompileOptions) and ``group_by``.
    """

    @functools.wraps(func)
    def wrapper(
        *args: Any,
        env: str | None,
        pipeline: str,
        params: str | None,
        env_vars: tuple[str, ...],
        aml_env: str | None,
        image: str | None,
        load_versions: tuple[str, ...],
        **kwargs: Any,
    ) -> Any:
        from kedro_azureml.compiler.render import CompileOptions
        from kedro_azureml.contract.options import parse_env_vars, parse_load_versions, parse_params

        if aml_env and image:  # before the project is opened: a usage error, not a compile one
            raise click.UsageError("Give either --aml-env or --image, not both.")
        kwargs["request"] = CompileOptions(
            pipeline_name=pipeline,
            env=_env(click.get_current_context(), env),
            params=parse_params(params),
            env_vars=parse_env_vars(env_vars),
            aml_env=aml_env,
            image=image,
            load_versions=parse_load_versions(load_versions),
        )
        return func(*args, **kwargs)

    decorators = [
        click.option("-e", "--env", default=None, help=ENV_HELP),
        click.option(
            "-p", "--pipeline", default="__default__", show_default=True, help=PIPELINE_HELP
        ),
        click.option("--params", default=None, help=PARAMS_HELP),
        click.option(
            "--env-var",
            "env_vars",
            multiple=True,
            metavar="KEY=VALUE",
            help="Environment variable for every step; repeat for more.",
        ),
        click.option(
            "--aml-env",
            default=None,
            help="Azure ML environment (name@latest or name:version) instead of the configured one.",
        ),
        click.option(
            "-i",
            "--image",
            default=None,
            help="Docker image the steps run in, instead of the configured one.",
        ),
        click.option(
            "--load-versions",
            "load_versions",
            multiple=True,
            metavar="DATASET:VERSION",
            help="Dataset versions to load (as in `kedro run`).",
        ),
        click.option(
            "--group-by",
            "group_by",
            default=None,
            type=click.Choice(["none", "namespace", "tag", "memory"]),
            help="How nodes are grouped into steps; overrides azure.grouping.",
        ),
    ]
    command: Any = wrapper
    for decorator in reversed(decorators):
        command = decorator(command)
    return command  # type: ignore[no-any-return]


@click.group(name="Azure ML")
def commands() -> None:
    """Kedro plugin entry point."""


@commands.group(name="azureml")
@click.option("-e", "--env", "group_env", default=None, help=ENV_HELP)
@click.pass_context
def azureml(ctx: click.Context, group_env: str | None) -> None:
    """Run Kedro pipelines on Azure ML pipelines (and the same job locally)."""
    ctx.meta["kedro_azureml.env"] = group_env


def _env(ctx: click.Context, env: str | None) -> str | None:
    return env or ctx.meta.get("kedro_azureml.env")


@azureml.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument(
    "args",
    nargs=-1,
    metavar="RESOURCE_GROUP WORKSPACE_NAME EXPERIMENT_NAME CLUSTER_NAME [STORAGE_ACCOUNT_NAME STORAGE_CONTAINER] [ENVIRONMENT_NAME]",
)
@click.option(
    "--subscription-id",
    "-s",
    default=lambda: os.environ.get("AZURE_SUBSCRIPTION_ID", ""),
    help="Azure subscription ID (default: $AZURE_SUBSCRIPTION_ID; may also be given at `run -s`).",
)
@click.option(
    "-d",
    "--docker-image",
    default=None,
    help="Image for the docker image flow (code baked into the image, code_directory: ~).",
)
@click.option(
    "--use-pipeline-data-passing",
    is_flag=True,
    help="Pass data between steps through Azure ML job outputs instead of a temporary Blob container.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Overwrite an existing conf/base/azureml.yml (a non-empty .amlignore is always kept).",
)
@click.pass_obj
@_friendly_errors
def init(
    metadata: Any,
    args: tuple[str, ...],
    subscription_id: str,
    docker_image: str | None,
    use_pipeline_data_passing: bool,
    force: bool,
) -> None:
    """Write conf/base/azureml.yml and a safe .amlignore.

    Give 7 arguments as in the quickstart (with a storage account, container and environment),
    or leave out the storage pair (pipeline data passing), or the environment (with -d).
    """
    from kedro_azureml.project.scaffold import write_init_files

    settings = _init_settings(args, subscription_id, docker_image, use_pipeline_data_passing)
    for path in write_init_files(_project_path(metadata), settings, force=force):
        click.echo(f"Wrote {path}")
    if not settings.subscription_id:
        click.echo(
            "No subscription ID stored: give it with `kedro azureml run -s <id>` or $AZURE_SUBSCRIPTION_ID."
        )


def _init_settings(
    args: tuple[str, ...], subscription_id: str, docker_image: str | None, data_passing: bool
) -> Any:
    from kedro_azureml.project.scaffold import InitSettings

    usage = "expected RESOURCE_GROUP WORKSPACE_NAME EXPERIMENT_NAME CLUSTER_NAME [STORAGE_ACCOUNT_NAME STORAGE_CONTAINER] [ENVIRONMENT_NAME]"
    if len(args) not in (4, 5, 6, 7):
        raise click.UsageError(f"Got {len(args)} arguments; {usage}.")
    base = dict(
        zip(
            ("resource_group", "workspace_name", "experiment_name", "cluster_name"),
            args[:4],
            strict=True,
        )
    )
    rest = list(args[4:])
    storage: tuple[str | None, str | None] = (None, None)
    if len(rest) >= 2:
        storage = (rest.pop(0), rest.pop(0))
    environment = rest.pop(0) if rest else None
    if not environment and not docker_image:
        raise click.UsageError(
            "Give an ENVIRONMENT_NAME (code upload flow) or -d/--docker-image (docker image flow)."
        )
    return InitSettings(
        **base,
        subscription_id=subscription_id or "",
        storage_account_name=storage[0],
        storage_container=storage[1],
        environment_name=environment,
        docker_image=docker_image,
        pipeline_data_passing=data_passing or storage[0] is None,
    )


@azureml.command(name="compile")
@compile_options
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("pipeline.yaml"),
    show_default=True,
    help="Where to write the Azure ML pipeline job YAML.",
)
@click.option(
    "--explain",
    is_flag=True,
    help="Also print which node runs in which step and how each dataset travels.",
)
@click.pass_obj
@click.pass_context
@_friendly_errors
def compile_(
    ctx: click.Context,
    metadata: Any,
    request: Any,
    group_by: str | None,
    output: Path,
    explain: bool,
) -> None:
    """Compile a Kedro pipeline into an Azure ML pipeline job YAML (for `az ml job create -f`)."""
    from kedro_azureml.commands.compile import compile_to_file

    compiled = compile_to_file(
        _project_path(metadata),
        output.resolve(),
        request,
        grouping=group_by,
    )
    if explain:
        from kedro_azureml.compiler.explain import explain_plan

        click.echo(explain_plan(compiled.plan))
    click.echo(f"Wrote {output} ({len(compiled.plan.steps)} steps) in {compiled.seconds:.2f}s")


@azureml.command()
@compile_options
@click.option(
    "-s",
    "--subscription-id",
    default=None,
    help="Azure subscription ID; wins over azure.subscription_id in azureml.yml, which wins "
    "over $AZURE_SUBSCRIPTION_ID. With --local: only for data asset inputs.",
)
@click.option(
    "--wait-for-completion", is_flag=True, help="Stream the job's logs and wait for it to finish."
)
@click.option(
    "--on-job-scheduled",
    default=None,
    metavar="MODULE:FUNCTION",
    help="Called with the created job (default: print its name and Studio URL).",
)
@click.option(
    "--allow-secrets-upload",
    is_flag=True,
    help="Upload files that look like secrets (conf/local, credentials, .env).",
)
@click.option(
    "--local",
    is_flag=True,
    help="Run the compiled job on this machine, step by step, as Azure ML would.",
)
@click.option(
    "--from-yaml",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="With --local: run this compiled job YAML instead of compiling.",
)
@click.option(
    "--max-workers",
    type=click.IntRange(min=1),
    default=None,
    help="With --local: steps run at once (default: number of CPUs).",
)
@click.option(
    "--mlflow/--no-mlflow",
    default=True,
    show_default=True,
    help="With --local: give each step an MLflow run, as Azure ML does (when MLflow is "
    "installed; store: $MLFLOW_TRACKING_URI or .kedro-azureml/mlflow.db).",
)
@click.pass_obj
@click.pass_context
@_friendly_errors
def run(
    ctx: click.Context,
    metadata: Any,
    request: Any,
    group_by: str | None,
    subscription_id: str | None,
    wait_for_completion: bool,
    on_job_scheduled: str | None,
    allow_secrets_upload: bool,
    local: bool,
    from_yaml: Path | None,
    max_workers: int | None,
    mlflow: bool,
) -> None:
    """Submit the pipeline to Azure ML, or run it here with --local."""
    project_path = _project_path(metadata)
    if from_yaml and request.params:
        raise click.UsageError(
            "--params changes what is compiled; a --from-yaml job is already compiled. "
            "Compile with --params, or run --local without --from-yaml."
        )
    if local:
        from kedro_azureml.commands.run_local import run_local

        ok = run_local(
            project_path,
            request,
            grouping=group_by,
            from_yaml=from_yaml,
            max_workers=max_workers,
            mlflow=mlflow,
            subscription_id=subscription_id,
        )
        ctx.exit(0 if ok else 1)
    if from_yaml:
        raise click.UsageError("--from-yaml goes with --local.")
    from kedro_azureml.commands.submit import SubmitSettings, submit_project

    settings = SubmitSettings(
        grouping=group_by,
        subscription_id=subscription_id,
        wait=wait_for_completion,
        on_job_scheduled=on_job_scheduled,
        allow_secrets_upload=allow_secrets_upload,
    )
    ok = submit_project(project_path, request, settings)
    ctx.exit(0 if ok else 1)


@azureml.command(hidden=True)
@click.option("-e", "--env", default=None, help=ENV_HELP)
@click.option("--pipeline", default="__default__")
@click.option("--node", "nodes", multiple=True, required=True)
@click.option("--az-input", "az_inputs", type=(str, str), multiple=True, metavar="DATASET PATH")
@click.option("--az-output", "az_outputs", type=(str, str), multiple=True, metavar="DATASET PATH")
@click.option("--params", default=None)
@click.option("--load-versions", "load_versions", multiple=True)
@click.pass_obj
@click.pass_context
@_friendly_errors
def execute(
    ctx: click.Context,
    metadata: Any,
    env: str | None,
    pipeline: str,
    nodes: tuple[str, ...],
    az_inputs: tuple[tuple[str, str], ...],
    az_outputs: tuple[tuple[str, str], ...],
    params: str | None,
    load_versions: tuple[str, ...],
) -> None:
    """Run one Azure ML step: its node(s), bound to the step's input and output folders."""
    from kedro_azureml.contract.options import parse_load_versions, parse_params
    from kedro_azureml.step.execute import execute_step

    execute_step(
        _project_path(metadata),
        env=_env(ctx, env),
        pipeline_name=pipeline,
        node_names=list(nodes),
        inputs=dict(az_inputs),
        outputs=dict(az_outputs),
        params=parse_params(params),
        load_versions=parse_load_versions(load_versions) or None,
        bootstrap=metadata is None,
    )


@azureml.command(name="docker-init")
@click.option(
    "--flow",
    type=click.Choice(["code-upload", "image"]),
    default="code-upload",
    show_default=True,
    help="code-upload: the image holds only the requirements (an Azure ML environment); "
    "image: the project is copied into the image (code_directory: ~).",
)
@click.option(
    "--base-image",
    default=None,
    help="Default of the BASE_IMAGE build argument (default: python:<this Python>-slim).",
)
@click.option(
    "--working-directory",
    default=None,
    help="With --flow image: where the project goes in the image; must match "
    "azure.working_directory (default: /home/kedro_docker).",
)
@click.option("--force", is_flag=True, help="Overwrite an existing Dockerfile / .dockerignore.")
@click.pass_obj
@_friendly_errors
def docker_init(
    metadata: Any, flow: str, base_image: str | None, working_directory: str | None, force: bool
) -> None:
    """Write a Dockerfile and .dockerignore for the code upload or docker image flow."""
    from kedro_azureml.project.dockerfiles import NEXT_STEPS, write_docker_files

    written = write_docker_files(
        _project_path(metadata),
        flow,
        force=force,
        base_image=base_image,
        working_directory=working_directory,
    )
    for path in written:
        click.echo(f"Wrote {path}")
    click.echo(NEXT_STEPS[flow])
