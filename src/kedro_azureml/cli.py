"""The ``kedro azureml`` commands. Each parses its options and calls one function.

Kedro imports this module for every ``kedro`` command of every project, so it imports only
click here; everything heavier is imported inside the command that needs it.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click

from kedro_azureml import __version__
from kedro_azureml.contract.grouping_strategies import GROUPING_STRATEGIES

F = TypeVar("F", bound=Callable[..., Any])

DISTRIBUTION = "kedro-azureml-next"
# GetInData's plugin: its distribution installs the same import package, kedro_azureml.
ORIGINAL_DISTRIBUTION = "kedro-azureml"

ENV_HELP = (
    "Kedro configuration environment, used at compile and by every step (default: $KEDRO_ENV, "
    "else the base env; never Kedro's default run env 'local', which is not uploaded)."
)
PIPELINE_HELP = "Name of the registered pipeline to compile (as in `kedro run`)."
JOB_HELP = "A job of the jobs: section of azureml.yml: its pipeline, filters and settings."
# Kedro's own `kedro run` filter options: same names, same meaning (Pipeline.filter).
FILTER_HELP = {
    "node_names": "Run only nodes with specified names.",
    "from_nodes": "A list of node names which should be used as a starting point.",
    "to_nodes": "A list of node names which should be used as an end point.",
    "from_inputs": "A list of dataset names which should be used as a starting point.",
    "to_outputs": "A list of dataset names which should be used as an end point.",
    "node_namespaces": "Run only node namespaces with specified names.",
    "tags": "Construct the pipeline using only nodes which have this tag attached.",
}
PARAMS_HELP = (
    "Override parameters: a JSON object, or Kedro's key=value syntax with dots for nesting "
    "(a.b=1,c=x)."
)


# File-system errors that say something about the user's machine, not about our code.
_FILE_SYSTEM_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT}


def _friendly_errors(func: F) -> F:
    """Our own errors, and a folder we may not write, become one clean CLI message."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from kedro_azureml.errors import KedroAzureMLError

        try:
            return func(*args, **kwargs)
        except KedroAzureMLError as exc:
            raise click.ClickException(str(exc)) from exc
        except OSError as exc:
            if exc.errno not in _FILE_SYSTEM_ERRNOS or not exc.filename:
                raise
            target = Path(str(exc.filename))
            if target.name.startswith(".") and target.name.endswith(".partial"):
                target = target.parent  # our temporary file: the folder is what matters
            raise click.ClickException(
                f"{target}: {exc.strerror}. kedro azureml writes there (compile its YAML, "
                "run --local its run folders under .kedro-azureml/): fix the permissions or "
                "the free space, or give compile another place with -o."
            ) from exc

    return wrapper  # type: ignore[return-value]


def _project_path(metadata: Any) -> Path:
    return Path(getattr(metadata, "project_path", None) or Path.cwd())


def _split_names(ctx: click.Context, param: Any, value: str) -> list[str]:
    """Kedro's own splitting of filter option values (node names may hold commas)."""
    from kedro.framework.cli.utils import split_node_names, split_string

    splitter = (
        split_string if param.name in ("from_inputs", "to_outputs", "tags") else split_node_names
    )
    return list(splitter(ctx, param, value or ""))


def _job_request(options: dict[str, Any], pipeline: str | None) -> Any:
    """The job options of `compile` and `run`, taken out of ``options``, as one JobRequest."""
    from kedro_azureml.commands.jobs import JobRequest
    from kedro_azureml.contract.options import parse_key_values

    filters = {name: options.pop(name) for name in FILTER_HELP}
    return JobRequest(
        job=options.pop("job"),
        pipeline=pipeline,
        filters={name: value for name, value in filters.items() if value},
        display_name=options.pop("display_name"),
        experiment_name=options.pop("experiment_name"),
        description=options.pop("description"),
        tags=parse_key_values(options.pop("job_tags"), "--tag"),
        inputs=parse_key_values(options.pop("inputs", ()), "--input"),
    )


def compile_options(func: F) -> F:
    """Options shared by `compile` and `run`, named as in `kedro run`.

    The command receives them parsed, as one ``request`` (CompileOptions), one ``job_request``
    (JobRequest: the job, Kedro's filters, overrides) and ``group_by``.
    """

    @functools.wraps(func)
    def wrapper(
        *args: Any,
        env: str | None,
        pipeline: str | None,
        params: str | None,
        env_vars: tuple[str, ...],
        aml_env: str | None,
        image: str | None,
        load_versions: tuple[str, ...],
        **kwargs: Any,
    ) -> Any:
        from kedro_azureml.compiler.render import CompileOptions
        from kedro_azureml.contract.options import (
            check_image,
            parse_env_vars,
            parse_load_versions,
            parse_params,
        )

        if aml_env and image:  # before the project is opened: a usage error, not a compile one
            raise click.UsageError("Give either --aml-env or --image, not both.")
        kwargs["job_request"] = _job_request(kwargs, pipeline)
        kwargs["request"] = CompileOptions(
            pipeline_name=pipeline or "__default__",
            env=_env(click.get_current_context(), env),
            params=parse_params(params),
            env_vars=parse_env_vars(env_vars),
            aml_env=aml_env,
            image=check_image(image),
            load_versions=parse_load_versions(load_versions),
        )
        return func(*args, **kwargs)

    decorators = [
        click.option("-e", "--env", default=None, help=ENV_HELP),
        click.option("-j", "--job", default=None, help=JOB_HELP),
        click.option(
            "-p", "--pipeline", default=None, help=PIPELINE_HELP + " [default: __default__]"
        ),
        click.option(
            "-n",
            "--nodes",
            "node_names",
            default="",
            callback=_split_names,
            help=FILTER_HELP["node_names"],
        ),
        click.option(
            "--from-nodes", default="", callback=_split_names, help=FILTER_HELP["from_nodes"]
        ),
        click.option("--to-nodes", default="", callback=_split_names, help=FILTER_HELP["to_nodes"]),
        click.option(
            "--from-inputs", default="", callback=_split_names, help=FILTER_HELP["from_inputs"]
        ),
        click.option(
            "--to-outputs", default="", callback=_split_names, help=FILTER_HELP["to_outputs"]
        ),
        click.option("-t", "--tags", default="", callback=_split_names, help=FILTER_HELP["tags"]),
        click.option(
            "-ns",
            "--namespaces",
            "node_namespaces",
            default="",
            callback=_split_names,
            help=FILTER_HELP["node_namespaces"],
        ),
        click.option("--display-name", default=None, help="Display name of the Azure ML job."),
        click.option(
            "--experiment-name",
            default=None,
            help="Azure ML experiment, instead of the configured one.",
        ),
        click.option("--description", default=None, help="Description of the Azure ML job."),
        click.option(
            "--tag",
            "job_tags",
            multiple=True,
            metavar="KEY=VALUE",
            help="A tag of the Azure ML job; repeat for more.",
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
            type=click.Choice(GROUPING_STRATEGIES),
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
@click.version_option(
    __version__,
    "-V",
    "--version",
    package_name=DISTRIBUTION,
    prog_name="kedro azureml",
    message="%(prog)s %(version)s (%(package)s)",
)
@click.pass_context
def azureml(ctx: click.Context, group_env: str | None) -> None:
    """Run Kedro pipelines on Azure ML pipelines (and the same job locally)."""
    ctx.meta["kedro_azureml.env"] = group_env
    note = original_plugin_note()
    if note:
        click.secho(note, err=True, fg="yellow")


def original_plugin_note() -> str | None:
    """One line when the original plugin's distribution is installed in this environment too.

    Both install the package ``kedro_azureml``: whichever was installed last owns its files, so
    the commands and every step's ``execute`` may be the other plugin's. A metadata lookup only
    (a few milliseconds); nothing is imported.
    """
    from importlib import metadata

    # Installed by pip or uv (they write INSTALLER); an egg-info folder that an old build of
    # this project left in src/ under the original's name is not an installation.
    installed = [
        dist
        for dist in metadata.distributions(name=ORIGINAL_DISTRIBUTION)
        if dist.read_text("INSTALLER") is not None
    ]
    if not installed:
        return None
    version = installed[0].version
    return (
        f"Warning: {ORIGINAL_DISTRIBUTION} {version} (the original plugin) is installed here too "
        f"and shares the import name kedro_azureml with {DISTRIBUTION}; fix: pip uninstall -y "
        f"{ORIGINAL_DISTRIBUTION} && pip install --force-reinstall --no-deps {DISTRIBUTION}"
    )


def _env(ctx: click.Context, env: str | None) -> str | None:
    return env or ctx.meta.get("kedro_azureml.env")


def _subscription_id(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A subscription ID is a GUID: say so now, not after a sign-in attempt."""
    from kedro_azureml.contract.options import check_subscription_id

    source = ctx.get_parameter_source(param.name or "")
    from_environment = source is click.core.ParameterSource.DEFAULT and value
    hint = "$AZURE_SUBSCRIPTION_ID" if from_environment else "-s/--subscription-id"
    return check_subscription_id(value, hint)


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
    callback=_subscription_id,
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


INIT_FORMS = (
    "The forms of `kedro azureml init`:\n"
    "  7 arguments: RESOURCE_GROUP WORKSPACE_NAME EXPERIMENT_NAME CLUSTER_NAME "
    "STORAGE_ACCOUNT_NAME STORAGE_CONTAINER ENVIRONMENT_NAME (the quickstart)\n"
    "  5 arguments: RESOURCE_GROUP WORKSPACE_NAME EXPERIMENT_NAME CLUSTER_NAME ENVIRONMENT_NAME "
    "(pipeline data passing, no storage account)\n"
    "  4 or 6 arguments with -d IMAGE: the same without ENVIRONMENT_NAME (docker image flow)"
)


def _missing_init_argument(args: tuple[str, ...], docker_image: str | None) -> str | None:
    """What is missing from ``args`` (none, or which argument for which form)."""
    from kedro_azureml.config import is_environment_reference

    if len(args) < 4:
        names = ("RESOURCE_GROUP", "WORKSPACE_NAME", "EXPERIMENT_NAME", "CLUSTER_NAME")
        return f"{', '.join(names[len(args) :])} missing: every form starts with these four"
    if docker_image or len(args) in (5, 7):
        return None
    if len(args) == 4:
        return "ENVIRONMENT_NAME missing (5-argument form), or give -d IMAGE (docker image flow)"
    sixth = args[5]
    if is_environment_reference(sixth):
        return (
            f"STORAGE_CONTAINER missing (7-argument form): the 6th argument {sixth!r} looks like "
            "the ENVIRONMENT_NAME, so the STORAGE_CONTAINER before it is missing; or leave out "
            "the storage pair (5 arguments) for pipeline data passing"
        )
    return (
        f"ENVIRONMENT_NAME missing (7-argument form) after STORAGE_ACCOUNT_NAME {args[4]!r} and "
        f"STORAGE_CONTAINER {sixth!r}; or give -d IMAGE for the docker image flow"
    )


def _init_settings(
    args: tuple[str, ...], subscription_id: str, docker_image: str | None, data_passing: bool
) -> Any:
    from kedro_azureml.config import check_init_names, is_environment_reference
    from kedro_azureml.contract.options import check_image
    from kedro_azureml.project.scaffold import InitSettings

    if len(args) > 7:
        raise click.UsageError(f"Got {len(args)} arguments, at most 7 are taken.\n{INIT_FORMS}")
    missing = _missing_init_argument(args, docker_image)
    if missing:
        raise click.UsageError(f"Got {len(args)} arguments: {missing}.\n{INIT_FORMS}")
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
    if environment and not is_environment_reference(environment):
        raise click.BadParameter(
            f"{environment!r} is not a registered Azure ML environment reference: use "
            "name@latest or name:version (e.g. kedro-env@latest), or -d IMAGE for an image",
            param_hint="ENVIRONMENT_NAME",
        )
    for argument, problem in check_init_names(base["experiment_name"], base["cluster_name"]):
        raise click.BadParameter(problem, param_hint=argument)
    return InitSettings(
        **base,
        subscription_id=subscription_id or "",
        storage_account_name=storage[0],
        storage_container=storage[1],
        environment_name=environment,
        docker_image=check_image(docker_image, "-d/--docker-image"),
        pipeline_data_passing=data_passing or storage[0] is None,
    )


def _graph_files(
    ctx: click.Context, param: click.Parameter, value: tuple[Path, ...]
) -> tuple[Path, ...]:
    """--graph FILEs whose suffix says what to draw; checked before the project opens."""
    if not value:
        return value
    from kedro_azureml.compiler.graph import GRAPH_SUFFIXES

    for path in value:
        if path.suffix.lower() not in GRAPH_SUFFIXES:
            raise click.BadParameter(
                f"'{path}' must end with {', '.join(GRAPH_SUFFIXES)} (Mermaid text, Markdown "
                "with a Mermaid block, or a self-contained HTML page).",
                ctx=ctx,
                param=param,
            )
    return value


@azureml.command(name="compile")
@compile_options
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path, allow_dash=True),
    default=Path("pipeline.yaml"),
    show_default=True,
    help="Where to write the Azure ML pipeline job YAML; '-' writes it to stdout (its code "
    "path is then relative to the current folder) and everything else to stderr.",
)
@click.option(
    "--explain",
    is_flag=True,
    help="Also print which node runs in which step and how each dataset travels.",
)
@click.option(
    "--graph",
    "graphs",
    type=click.Path(dir_okay=False, path_type=Path),
    multiple=True,
    metavar="FILE",
    callback=_graph_files,
    help="Also draw the step graph into FILE: .mmd Mermaid text, .md Markdown with a Mermaid "
    "block, .html a self-contained page (works offline). Repeat for several.",
)
@click.pass_obj
@click.pass_context
@_friendly_errors
def compile_(
    ctx: click.Context,
    metadata: Any,
    request: Any,
    job_request: Any,
    group_by: str | None,
    output: Path,
    explain: bool,
    graphs: tuple[Path, ...],
) -> None:
    """Compile a Kedro pipeline into an Azure ML pipeline job YAML (for `az ml job create -f`)."""
    from kedro_azureml.commands.compile import compile_to_file, write_graph

    to_stdout = str(output) == "-"
    with _logs_to_stderr() if to_stdout else contextlib.nullcontext():
        compiled = compile_to_file(
            _project_path(metadata),
            None if to_stdout else output.resolve(),
            request,
            grouping=group_by,
            job=job_request,
        )
    if explain:
        from kedro_azureml.compiler.explain import explain_plan

        click.echo(explain_plan(compiled.plan), err=to_stdout)
    for graph in graphs:
        write_graph(compiled.plan, graph)
        click.echo(f"Drew the step graph into {graph}", err=to_stdout)
    if to_stdout:
        click.echo(compiled.yaml_text, nl=False)
    click.echo(compiled.env_note, err=to_stdout)
    where = "stdout" if to_stdout else output
    click.echo(
        f"Wrote {where} ({len(compiled.plan.steps)} steps) in {compiled.seconds:.2f}s",
        err=to_stdout,
    )


@contextlib.contextmanager
def _logs_to_stderr() -> Iterator[None]:
    """Send log records to stderr while stdout carries the YAML (``compile -o -``).

    Kedro's default logging writes to stdout through a rich console; warnings raised while
    compiling (the SDK's, Kedro's) would otherwise land in the middle of the YAML.
    """
    import logging
    import sys

    restore: list[Callable[[], Any]] = []
    loggers = [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
    for log in loggers:
        for handler in getattr(log, "handlers", []):
            console = getattr(handler, "console", None)
            if console is not None and getattr(console, "file", None) is sys.stdout:
                from rich.console import Console

                handler.console = Console(stderr=True)  # type: ignore[attr-defined]
                restore.append(functools.partial(setattr, handler, "console", console))
            elif isinstance(handler, logging.StreamHandler) and handler.stream is sys.stdout:
                handler.setStream(sys.stderr)
                restore.append(functools.partial(handler.setStream, sys.stdout))
    try:
        yield
    finally:
        for undo in restore:
            undo()


@azureml.command()
@compile_options
@click.option(
    "-s",
    "--subscription-id",
    default=None,
    callback=_subscription_id,
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
    "--dry-run",
    is_flag=True,
    help="Sign in, make every check and compile, print what would be created; create nothing.",
)
@click.option(
    "--input",
    "inputs",
    multiple=True,
    metavar="NAME=VALUE",
    help="Value of a pipeline input (a parameter listed under the job's inputs) for this run.",
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
    "--resume",
    "resume",
    is_flag=False,
    flag_value="latest",
    default=None,
    metavar="[RUN]",
    help="With --local: finish an earlier run (default: the latest) instead of starting one: "
    "rerun its failed, interrupted and skipped steps, reuse the others' outputs. Refused when "
    "the compiled job has changed since.",
)
@click.option(
    "--mlflow/--no-mlflow",
    default=True,
    show_default=True,
    help="With --local: give each step an MLflow run, as Azure ML does (when MLflow is "
    "installed; store: $MLFLOW_TRACKING_URI or .kedro-azureml/mlflow.db).",
)
@click.option(
    "--remote-storage",
    is_flag=True,
    help="With --local and temporary_storage: pass data between steps through the real Blob "
    "container (needs its key), to test the storage set-up. Default: local folders laid out "
    "like the container, in the run folder; no key, no network.",
)
@click.option(
    "--cold-start",
    is_flag=True,
    default=False,
    help="With --local: start every step as a fresh process. By default a step whose "
    "command is a plain `kedro ...` is forked from an interpreter that has already imported "
    "Kedro and the project, and then runs that exact command (also "
    "KEDRO_AZUREML_COLD_START=1).",
)
@click.pass_obj
@click.pass_context
@_friendly_errors
def run(
    ctx: click.Context,
    metadata: Any,
    request: Any,
    job_request: Any,
    group_by: str | None,
    dry_run: bool,
    subscription_id: str | None,
    wait_for_completion: bool,
    on_job_scheduled: str | None,
    allow_secrets_upload: bool,
    local: bool,
    from_yaml: Path | None,
    max_workers: int | None,
    resume: str | None,
    mlflow: bool,
    remote_storage: bool,
    cold_start: bool,
) -> None:
    """Submit the pipeline to Azure ML, or run it here with --local."""
    project_path = _project_path(metadata)
    if from_yaml and request.params:
        raise click.UsageError(
            "--params changes what is compiled; a --from-yaml job is already compiled. "
            "Compile with --params, or run --local without --from-yaml."
        )
    if from_yaml and job_request.changes_compile:
        raise click.UsageError(
            "-j, the filters and the job overrides change what is compiled; a --from-yaml job is "
            "already compiled. Compile with them, or run --local without --from-yaml "
            "(--input works with both)."
        )
    if local and dry_run:
        raise click.UsageError("--dry-run goes with a submission, not with --local.")
    if local:
        from kedro_azureml.commands.run_local import run_local

        code = run_local(
            project_path,
            request,
            grouping=group_by,
            from_yaml=from_yaml,
            max_workers=max_workers,
            mlflow=mlflow,
            job_request=job_request,
            resume=resume,
            subscription_id=subscription_id,
            remote_storage=remote_storage,
            cold_start=cold_start,
        )
        ctx.exit(code)
    if from_yaml:
        raise click.UsageError("--from-yaml goes with --local.")
    if remote_storage:
        raise click.UsageError("--remote-storage goes with --local.")
    if resume is not None:
        raise click.UsageError("--resume goes with --local.")
    if subscription_id is None:  # submit falls back on the variable: check it as early
        from kedro_azureml.contract.options import check_subscription_id

        check_subscription_id(os.environ.get("AZURE_SUBSCRIPTION_ID"), "$AZURE_SUBSCRIPTION_ID")
    from kedro_azureml.commands.submit import SubmitSettings, submit_project

    settings = SubmitSettings(
        grouping=group_by,
        subscription_id=subscription_id,
        wait=wait_for_completion,
        on_job_scheduled=on_job_scheduled,
        allow_secrets_upload=allow_secrets_upload,
        dry_run=dry_run,
    )
    ok = submit_project(project_path, request, settings, job=job_request)
    ctx.exit(0 if ok else 1)


@azureml.command(hidden=True)
@click.option("-e", "--env", default=None, help=ENV_HELP)
@click.option("--pipeline", default="__default__")
@click.option("--node", "nodes", multiple=True)
@click.option(
    "--nodes",
    "node_selection",
    default=None,
    help="The nodes as a reference into the pipeline's nodes (written by compile for steps "
    "of many nodes, whose --node options would make the command too long).",
)
@click.option("--az-input", "az_inputs", type=(str, str), multiple=True, metavar="DATASET PATH")
@click.option("--az-output", "az_outputs", type=(str, str), multiple=True, metavar="DATASET PATH")
@click.option("--params", default=None)
@click.option("--load-versions", "load_versions", multiple=True)
@click.option(
    "--param-input", "param_inputs", type=(str, str, str), multiple=True, metavar="PARAM TYPE VALUE"
)
@click.pass_obj
@click.pass_context
@_friendly_errors
def execute(
    ctx: click.Context,
    metadata: Any,
    env: str | None,
    pipeline: str,
    nodes: tuple[str, ...],
    node_selection: str | None,
    az_inputs: tuple[tuple[str, str], ...],
    az_outputs: tuple[tuple[str, str], ...],
    params: str | None,
    load_versions: tuple[str, ...],
    param_inputs: tuple[tuple[str, str, str], ...],
) -> None:
    """Run one Azure ML step: its node(s), bound to the step's input and output folders."""
    from kedro_azureml.contract.options import parse_load_versions, parse_params
    from kedro_azureml.step.execute import execute_step, with_param_inputs

    if bool(nodes) == bool(node_selection):
        raise click.UsageError("Give the step's nodes as --node NAME (repeated) or --nodes REF.")
    execute_step(
        _project_path(metadata),
        env=_env(ctx, env),
        pipeline_name=pipeline,
        node_names=list(nodes),
        node_selection=node_selection,
        inputs=dict(az_inputs),
        outputs=dict(az_outputs),
        params=with_param_inputs(parse_params(params), param_inputs),
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
    from kedro_azureml.project.dockerfiles import (
        NEXT_STEPS,
        original_plugin_warning,
        write_docker_files,
    )

    written = write_docker_files(
        _project_path(metadata),
        flow,
        force=force,
        base_image=base_image,
        working_directory=working_directory,
    )
    for path in written:
        click.echo(f"Wrote {path}")
    warning = original_plugin_warning(_project_path(metadata))
    if warning:
        click.secho(f"Warning: {warning}", err=True, fg="yellow")
    click.echo(NEXT_STEPS[flow])


SUBSCRIPTION_HELP = (
    "Azure subscription ID (default: $AZURE_SUBSCRIPTION_ID, then azure.subscription_id in "
    "azureml.yml)."
)


@azureml.group(name="schedule", invoke_without_command=True)
@click.option("-e", "--env", default=None, help=ENV_HELP)
@click.option(
    "-j",
    "--job",
    "jobs",
    multiple=True,
    help="A job of azureml.yml to schedule; repeat for more (default: every scheduled job).",
)
@click.option("-s", "--subscription-id", default=None, help=SUBSCRIPTION_HELP)
@click.option(
    "--dry-run", is_flag=True, help="Compile and check, say what would change; change nothing."
)
@click.option(
    "--prune",
    is_flag=True,
    help="Also delete this project's schedules that azureml.yml no longer declares.",
)
@click.option(
    "--allow-secrets-upload",
    is_flag=True,
    help="Upload files that look like secrets (conf/local, credentials, .env).",
)
@click.pass_obj
@click.pass_context
@_friendly_errors
def schedule(
    ctx: click.Context,
    metadata: Any,
    env: str | None,
    jobs: tuple[str, ...],
    subscription_id: str | None,
    dry_run: bool,
    prune: bool,
    allow_secrets_upload: bool,
) -> None:
    """Create or update the schedules of azureml.yml's jobs (idempotent).

    Subcommands: list, enable NAME, disable NAME, delete NAME.
    """
    ctx.meta["kedro_azureml.schedule"] = (env, subscription_id)
    if ctx.invoked_subcommand is not None:
        return
    from kedro_azureml.commands.schedule import ScheduleSettings, schedule_jobs

    schedule_jobs(
        _project_path(metadata),
        ScheduleSettings(
            env=_env(ctx, env),
            subscription_id=subscription_id,
            jobs=jobs,
            dry_run=dry_run,
            prune=prune,
            allow_secrets_upload=allow_secrets_upload,
        ),
    )


def _schedule_options(ctx: click.Context, env: str | None, subscription: str | None) -> Any:
    """-e and -s given after the subcommand, else before it (`schedule -s SUB list`)."""
    outer_env, outer_subscription = ctx.meta.get("kedro_azureml.schedule", (None, None))
    return _env(ctx, env or outer_env), subscription or outer_subscription


@schedule.command(name="list")
@click.option("-e", "--env", default=None, help=ENV_HELP)
@click.option("-s", "--subscription-id", default=None, help=SUBSCRIPTION_HELP)
@click.pass_obj
@click.pass_context
@_friendly_errors
def schedule_list(
    ctx: click.Context, metadata: Any, env: str | None, subscription_id: str | None
) -> None:
    """This project's schedules: job, enabled, trigger, next run."""
    from kedro_azureml.commands.schedule import list_schedules

    env, subscription_id = _schedule_options(ctx, env, subscription_id)
    list_schedules(_project_path(metadata), env, subscription_id)


def _schedule_verb(verb: str, summary: str) -> None:
    @schedule.command(name=verb, help=summary)
    @click.argument("name")
    @click.option("-e", "--env", default=None, help=ENV_HELP)
    @click.option("-s", "--subscription-id", default=None, help=SUBSCRIPTION_HELP)
    @click.pass_obj
    @click.pass_context
    @_friendly_errors
    def command(
        ctx: click.Context, metadata: Any, name: str, env: str | None, subscription_id: str | None
    ) -> None:
        from kedro_azureml.commands.schedule import manage_schedule

        env, subscription_id = _schedule_options(ctx, env, subscription_id)
        manage_schedule(_project_path(metadata), env, subscription_id, verb, name)


_schedule_verb("delete", "Delete the schedule NAME.")
_schedule_verb("disable", "Disable the schedule NAME (it stays, and no longer fires).")
_schedule_verb("enable", "Enable the schedule NAME again.")
