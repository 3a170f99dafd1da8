"""``kedro azureml run``: compile, check, upload, create the Azure ML job, and maybe watch it.

Every check that can fail runs before anything is created in Azure ML, in this order: local
ones (the ``--on-job-scheduled`` callback, files named like secrets in the code snapshot, an
empty conf folder, the storage key and its format, ``--env-var``/``--params`` values holding a
known secret, then one read of every file of the snapshot for secret shapes and known secret
values, see ``project/secret_scan.py``), then sign-in, then the data asset versions (each unpinned asset input is
resolved to its latest version once, so every step reads the same one), then compiling and
the docker image, then the workspace (compute clusters, environments). Only then is the
temporary datastore registered and the job created.

The code upload flow uploads a staged copy of exactly the files of the snapshot manifest
(``.amlignore`` rules, no empty files), so what Azure ML receives is what we printed.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kedro_azureml.commands.job_secrets import check_options_hold_no_secret, known_secrets
from kedro_azureml.commands.jobs import JobRequest, select_job
from kedro_azureml.compiler.render import CompileOptions
from kedro_azureml.config import DEFAULT_COMPUTE, AzureMLConfig, TemporaryStorageConfig, Workspace
from kedro_azureml.contract.references import import_reference
from kedro_azureml.errors import KedroAzureMLError
from kedro_azureml.project.kedro_project import KedroProject
from kedro_azureml.project.secret_scan import Allowlist, scan_contents, suspicious_files
from kedro_azureml.project.snapshot import SnapshotManifest, copy_snapshot, scan_code_directory

if TYPE_CHECKING:
    from rich.console import Console

    from kedro_azureml.commands.compile import CompiledJob
    from kedro_azureml.compiler.plan import StepPlan

STORAGE_KEY_ENV = "AZURE_STORAGE_ACCOUNT_KEY"
_SHOWN_SECRETS = 10
_ALLOW_HOW = (
    "If they are safe to upload, add `pragma: allowlist secret` in a comment on the line, list "
    "the files in .amlsecrets (gitignore patterns) or in a detect-secrets .secrets.baseline, or "
    "pass --allow-secrets-upload."
)


class SubmitCheckError(KedroAzureMLError):
    """A check before submitting failed; nothing was created in Azure ML."""


@dataclass(frozen=True)
class SubmitSettings:
    subscription_id: str | None = None
    grouping: str | None = None
    wait: bool = False
    on_job_scheduled: str | None = None
    allow_secrets_upload: bool = False
    dry_run: bool = False  # every check, then print what would be created; create nothing


def submit_project(
    project_path: Path,
    options: CompileOptions,
    settings: SubmitSettings,
    *,
    console: Console | None = None,
    interactive: bool | None = None,
    job: JobRequest | None = None,
) -> bool:
    """Submit the project's pipeline; True when created (and, with ``wait``, Completed)."""
    from rich.console import Console

    from kedro_azureml.cloud.auth import is_interactive
    from kedro_azureml.commands.compile import compile_project
    from kedro_azureml.project.kedro_project import open_project

    console = console or Console()
    interactive = is_interactive() if interactive is None else interactive
    project = open_project(project_path, options.env, options.params)
    selected = select_job(project, options, job, settings.grouping)
    project, options = selected.project, selected.options
    settings = replace(settings, grouping=selected.grouping)
    warn_about_tracking_requirements(project, console)
    config = project.config
    workspace = config.workspace(settings.subscription_id)
    on_scheduled = load_callback(settings.on_job_scheduled) or print_scheduled(console)
    with tempfile.TemporaryDirectory(prefix="kedro-azureml-code-") as staging:
        manifest, account_key, options = stage_code(
            project, options, Path(staging), settings.allow_secrets_upload, console, interactive
        )
        ml_client = _connect(workspace, interactive)
        options = pin_asset_versions(ml_client, project, options, console)
        compiled = compile_project(
            project,
            options,
            yaml_dir=project.path,
            grouping=settings.grouping,
            secrets=known_secrets(account_key, project.credential_secrets),
        )
        console.print(compiled.env_note, highlight=False)
        if manifest is None:
            check_docker_image(compiled.job)
        check_workspace(ml_client, config, compiled)
        if settings.dry_run:
            from kedro_azureml.commands.dry_run import print_dry_run

            datastore = _temporary_datastore_name(config)
            print_dry_run(console, compiled, config, manifest, datastore)
            return True
        if manifest is not None:
            console.print(
                f"Uploading code: {len(manifest.files)} files, {_size(manifest.total_bytes)} "
                f"from {manifest.root} (rules: {manifest.ignore_file or 'none'})",
                highlight=False,
            )
        if config.uses_temporary_storage and config.azure.temporary_storage:
            from kedro_azureml.cloud.client import ensure_temporary_datastore

            name = ensure_temporary_datastore(
                ml_client, config.azure.temporary_storage, account_key
            )
            console.print(f"Temporary data goes through datastore {name}", highlight=False)
        from kedro_azureml.cloud.client import create_job

        job = create_job(ml_client, compiled.job, config.azure.experiment_name)
    on_scheduled(job)
    if not settings.wait:
        return True
    return watch_job(ml_client, job, compiled, console=console, interactive=interactive)


def stage_code(
    project: KedroProject,
    options: CompileOptions,
    staging: Path,
    allow_secrets_upload: bool,
    console: Console,
    interactive: bool,
) -> tuple[SnapshotManifest | None, str | None, CompileOptions]:
    """Check the code snapshot (secrets by name and content, conf) and copy it to ``staging``.

    Every route that sends code to Azure ML (run, schedule) goes through here, so no route
    skips a check. Returns the manifest (None in the docker image flow), the temporary storage
    key, and the options pointing at the staged code.
    """
    config = project.config
    manifest = allowlist = None
    if config.azure.code_directory is not None:
        manifest = scan_code_directory((project.path / config.azure.code_directory).resolve())
        allowlist = Allowlist.for_directory(manifest.root)
        check_no_secrets(manifest, allow_secrets_upload, allowlist)
        check_conf_uploaded(manifest, project)
    account_key = _temporary_storage_key(config, console, interactive)
    known = known_secrets(account_key)
    # The project's credentials may never be in the job; they may be uploaded, when the user
    # allows secrets in the code (a step's Kedro then reads them), so the file scan omits them.
    check_options_hold_no_secret(options, known_secrets(account_key, project.credential_secrets))
    if manifest is not None and allowlist is not None:
        check_snapshot_contents(manifest, known, allowlist, allow_secrets_upload)
        code = staging / manifest.root.name
        copy_snapshot(manifest, code)
        options = replace(options, code=str(code))
    return manifest, account_key, options


def _temporary_datastore_name(config: AzureMLConfig) -> str | None:
    from kedro_azureml.contract.storage_paths import temp_datastore_name

    storage = config.azure.temporary_storage
    if not config.uses_temporary_storage or storage is None:
        return None
    return temp_datastore_name(storage.account_name, storage.container)


def warn_about_tracking_requirements(project: KedroProject, console: Any) -> None:
    """Warn (not stop) when kedro-mlflow would lack what it needs in the Azure ML environment:
    the requirements are what is installed there, and nothing here can see that environment."""
    from kedro_azureml.project.requirements import tracking_requirements_warning

    conf_source = project.env_conf_dir.parent
    conf_dirs = [conf_source / env for env in dict.fromkeys(("base", project.env))]
    warning = tracking_requirements_warning(project.path, conf_dirs)
    if warning:
        console.print(f"[yellow]Warning:[/] {warning}", highlight=False, soft_wrap=True)


def _connect(workspace: Workspace, interactive: bool) -> Any:
    from kedro_azureml.cloud.client import connect

    return connect(workspace, interactive=interactive)


def unpinned_assets(project: KedroProject, options: CompileOptions) -> dict[str, Any]:
    """``{dataset: AssetSpec}`` of the data asset inputs of the pipeline with no version pinned
    (neither ``azureml_version`` in the catalog nor ``--load-versions``).

    Only inputs count: an asset the job writes is registered as a new version, not read.
    """
    from kedro_azureml.contract.assets import asset_spec
    from kedro_azureml.contract.routing import Route, route_dataset

    specs = {}
    for name in sorted(project.pipeline(options.pipeline_name).inputs()):
        config = project.dataset_config(name)
        if config is None or route_dataset(name, config).route is not Route.ASSET:
            continue
        spec = asset_spec(config, options.load_versions.get(name))
        if spec.version is None:
            specs[name] = spec
    return specs


def pin_asset_versions(
    ml_client: Any, project: KedroProject, options: CompileOptions, console: Console
) -> CompileOptions:
    """``options`` with every unpinned asset input resolved once, as ``--load-versions``.

    The compiler then mounts ``azureml:<name>:<version>`` and passes the same versions to every
    step as ``--load-versions``, so every step reads the version printed here.
    """
    specs = unpinned_assets(project, options)
    if not specs:
        return options
    from azure.ai.ml.exceptions import MlException
    from azure.core.exceptions import HttpResponseError

    from kedro_azureml.cloud.client import error_reason
    from kedro_azureml.datasets import resolve_asset_versions

    try:
        versions = resolve_asset_versions(ml_client, specs)
    except (HttpResponseError, MlException) as exc:
        assets = ", ".join(sorted({spec.name for spec in specs.values()}))
        reason = error_reason(exc).rstrip(".")
        raise SubmitCheckError(
            f"Could not find the latest version of data asset(s) {assets} in workspace "
            f"'{ml_client.workspace_name}': {reason}. Register the asset, or pin a version "
            "(azureml_version in the catalog, or --load-versions <dataset>:<version>)."
        ) from exc
    console.print(
        "Data asset versions: " + ", ".join(f"{name} -> {v}" for name, v in versions.items()),
        highlight=False,
    )
    return replace(options, load_versions={**options.load_versions, **versions})


def load_callback(reference: str | None) -> Callable[[Any], Any] | None:
    """``module:function`` -> the function (imported now, so a typo fails before submitting)."""
    if not reference:
        return None
    try:
        function = import_reference(reference)
    except ImportError as exc:
        raise SubmitCheckError(
            f"--on-job-scheduled {reference}: cannot import it ({exc}); give module:function."
        ) from exc
    if not callable(function):
        raise SubmitCheckError(f"--on-job-scheduled {reference} is not callable.")
    return function  # type: ignore[no-any-return]


def print_scheduled(console: Console) -> Callable[[Any], None]:
    def on_job_scheduled(job: Any) -> None:
        console.print(
            f"Job {job.name} created in experiment {job.experiment_name}", highlight=False
        )
        console.print(f"Studio: {job.studio_url}", highlight=False, soft_wrap=True)

    return on_job_scheduled


def _listed(items: list[str]) -> str:
    more = len(items) - _SHOWN_SECRETS
    return ", ".join(items[:_SHOWN_SECRETS]) + (f" and {more} more" if more > 0 else "")


def check_no_secrets(
    manifest: SnapshotManifest, allowed: bool, allowlist: Allowlist | None = None
) -> None:
    """No file that looks like a secret by its name (or its symlink target's) goes up."""
    suspicious = suspicious_files(manifest, allowlist)
    if not suspicious or allowed:
        return
    raise SubmitCheckError(
        f"{len(suspicious)} file(s) that look like secrets would be uploaded with the code: "
        f"{_listed(suspicious)}. Exclude them in {manifest.root / '.amlignore'} (e.g. conf/local/, "
        "**/credentials*, .env), or pass --allow-secrets-upload if they are safe to upload."
    )


def check_snapshot_contents(
    manifest: SnapshotManifest, known: dict[str, str], allowlist: Allowlist, allowed: bool
) -> None:
    """Read every file that would go up: a known secret anywhere is refused whatever the flags;
    a secret's shape in a text file is refused unless accepted (see ``secret_scan``)."""
    result = scan_contents(manifest, known, allowlist)
    if result.known:
        lines = "\n".join(
            f"  - {label} is written in {_listed(files)}"
            for label, files in sorted(result.known.items())
        )
        raise SubmitCheckError(
            f"Not submitted: secrets would be uploaded with the code:\n{lines}\nRemove them from "
            "there: secrets are read from the environment (or a prompt) and never need to be in "
            "the project."
        )
    if result.findings and not allowed:
        shown = "\n".join(f"  {finding}" for finding in result.findings[:_SHOWN_SECRETS])
        more = len(result.findings) - _SHOWN_SECRETS
        raise SubmitCheckError(
            f"Not submitted: {len(result.findings)} possible secret(s) in files that would be "
            f"uploaded with the code:\n{shown}"
            + (f"\n  and {more} more" if more > 0 else "")
            + f"\nRemove them or exclude the files in {manifest.ignore_file or '.amlignore'}. "
            + _ALLOW_HOW
        )


def check_conf_uploaded(manifest: SnapshotManifest, project: KedroProject) -> None:
    """The Kedro envs the steps use must reach Azure ML, which drops empty folders and files."""
    conf_source = project.env_conf_dir.parent
    for env in dict.fromkeys(("base", project.env)):
        try:
            folder = (conf_source / env).resolve().relative_to(manifest.root).as_posix()
        except ValueError:
            continue  # conf lives outside the code directory: not ours to check
        if not any(f.startswith(f"{folder}/") for f in manifest.files):
            raise SubmitCheckError(
                f"{folder}/ has no non-empty file in the code snapshot, and Azure ML drops empty "
                f"folders and files, so Kedro would not find its '{env}' environment there. "
                f"Add a non-empty file to {folder}/ or stop excluding it in "
                f"{manifest.ignore_file or '.amlignore'}."
            )


def check_docker_image(job: Any) -> None:
    from azure.ai.ml.entities import Environment

    for name, node in job.jobs.items():
        environment = node.environment
        if isinstance(environment, str) or (
            isinstance(environment, Environment) and not environment.image
        ):
            raise SubmitCheckError(
                f"Step '{name}' has no docker image: the docker image flow (code_directory: ~) "
                "needs docker.image in azureml.yml or -i/--image."
            )


def compute_clusters(config: AzureMLConfig, compiled: CompiledJob) -> dict[str, list[str]]:
    """``{cluster_name: [aliases]}`` of every cluster the job uses (serverless has none)."""
    aliases = {DEFAULT_COMPUTE, *(step.compute for step in compiled.plan.steps)}
    clusters: dict[str, list[str]] = {}
    for alias in sorted(aliases):
        compute = config.azure.compute[alias]
        if compute.cluster_name and not compute.serverless:
            clusters.setdefault(compute.cluster_name, []).append(alias)
    return clusters


def check_workspace(ml_client: Any, config: AzureMLConfig, compiled: CompiledJob) -> None:
    """Every compute cluster and registered environment the job names exists."""
    from kedro_azureml.cloud.client import missing_computes, missing_environment

    problems = missing_computes(ml_client, compute_clusters(config, compiled))
    references = sorted(
        {
            node.environment
            for node in compiled.job.jobs.values()
            if isinstance(node.environment, str)
        }
    )
    for reference in references:
        problem = missing_environment(ml_client, reference)
        if problem:
            problems.append(problem)
    if problems:
        raise SubmitCheckError(
            "Not submitted; the workspace is not ready:\n" + "\n".join(f"  - {p}" for p in problems)
        )


def _temporary_storage_key(
    config: AzureMLConfig, console: Console, interactive: bool
) -> str | None:
    storage = config.azure.temporary_storage
    if not config.uses_temporary_storage or storage is None:
        return None
    return storage_account_key(storage, console=console, interactive=interactive)


def storage_account_key(
    storage: TemporaryStorageConfig,
    *,
    console: Console,
    interactive: bool,
    prompt: Callable[[str], str] | None = None,
) -> str | None:
    """The account key that signs the temporary container's SAS (``auth: sas`` only).

    From $AZURE_STORAGE_ACCOUNT_KEY, else asked for (hidden) at a terminal, else an error: a
    prompt nobody can answer would hang a CI job.
    """
    if storage.auth == "identity":
        return None
    key = os.environ.get(STORAGE_KEY_ENV)
    if key:
        return _valid_key(key, f"Environment variable {STORAGE_KEY_ENV}")
    if not interactive:
        raise SubmitCheckError(
            f"Environment variable {STORAGE_KEY_ENV} not set, and there is no terminal to ask "
            f"for the key of storage account {storage.account_name}. Set {STORAGE_KEY_ENV}, or "
            "use temporary_storage.auth: identity, or pipeline_data_passing.enabled: true."
        )
    console.print(f"Environment variable {STORAGE_KEY_ENV} not set, falling back to CLI prompt")
    ask = prompt or _hidden_prompt
    key = ask(
        f"Please provide Azure Storage Account Key for storage account {storage.account_name}"
    )
    if not key.strip():
        raise SubmitCheckError("No storage account key given.")
    return _valid_key(key, "The key typed at the prompt")


def _valid_key(key: str, source: str) -> str:
    from kedro_azureml.contract.storage_paths import account_key_problem

    problem = account_key_problem(key, source)
    if problem:
        raise SubmitCheckError(problem)
    return key.strip()


def _hidden_prompt(text: str) -> str:
    import click

    return str(click.prompt(text, hide_input=True))


def _size(total: int) -> str:
    size = float(total)
    for unit in ("bytes", "kB", "MB"):
        if size < 1000:
            return f"{int(size)} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"


def watch_job(
    ml_client: Any, job: Any, compiled: CompiledJob, *, console: Console, interactive: bool
) -> bool:
    """Stream the job's logs, then summarise; True only when it Completed.

    Ctrl-C stops watching; at a terminal it asks whether to cancel the job in Azure ML.
    """
    from kedro_azureml.cloud.client import job_status, step_runs, stream_job

    try:
        stream_job(ml_client, job.name)
    except KeyboardInterrupt:
        _interrupted(ml_client, job, console, interactive)
        return False
    status = job_status(ml_client, job.name)
    print_summary(console, job, status, step_runs(ml_client, job.name), compiled)
    return status == "Completed"


def _interrupted(ml_client: Any, job: Any, console: Console, interactive: bool) -> None:
    import click

    from kedro_azureml.cloud.client import cancel_job

    console.print(f"\nStopped watching job {job.name}.", highlight=False)
    if interactive and click.confirm(f"Cancel job {job.name} in Azure ML?", default=False):
        cancel_job(ml_client, job.name)
        console.print(f"Cancel requested for job {job.name}.", highlight=False)
        return
    console.print(
        f"The job keeps running in Azure ML: {job.studio_url}\n"
        f"Cancel it with `az ml job cancel --name {job.name}`.",
        highlight=False,
        soft_wrap=True,
    )


def print_summary(
    console: Console, job: Any, status: str, runs: list[Any], compiled: CompiledJob
) -> None:
    """Each step's status, and for failed steps their Kedro nodes and where the logs are.

    Azure ML names a step's run after the step's display name (its Kedro node's name).
    """
    from rich.table import Table

    steps: dict[str, StepPlan] = {}
    for plan_step in compiled.plan.steps:
        steps[plan_step.name] = plan_step
        steps[str(compiled.job.jobs[plan_step.name].display_name)] = plan_step
    table = Table(title=f"Job {job.name}: {status}", title_justify="left")
    for column in ("Step", "Kedro nodes", "Status"):
        table.add_column(column)
    failed = []
    for run in runs:
        step = steps.get(run.display_name)
        nodes = ", ".join(step.node_names) if step else "?"
        table.add_row(run.display_name, nodes, run.status)
        if run.status in ("Failed", "Canceled"):
            failed.append((run, nodes))
    console.print(table)
    for run, nodes in failed:
        where = getattr(run, "studio_url", None) or job.studio_url
        console.print(
            f"Step {run.display_name} {run.status.lower()} (Kedro nodes: {nodes}); logs: {where}",
            highlight=False,
            soft_wrap=True,
        )
    console.print(f"Final status: {status}", highlight=False)
