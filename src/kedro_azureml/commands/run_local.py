"""``run --local``: compile (or read) a job, then run its steps on this machine."""

from __future__ import annotations

import atexit
import gc
import itertools
import os
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kedro_azureml.atomic import write_text_atomically
from kedro_azureml.commands.compile import compile_to_file, env_note, read_job_yaml
from kedro_azureml.commands.compile_shortcut import (
    Shortcut,
    project_key,
    read_shortcut,
    write_shortcut,
)
from kedro_azureml.commands.jobs import JobRequest, input_values_of_yaml
from kedro_azureml.compiler.render import CompileOptions
from kedro_azureml.errors import KedroAzureMLError
from kedro_azureml.project.kedro_project import KedroProject

if TYPE_CHECKING:
    from rich.console import Console

    from kedro_azureml.local.processes import StepProcesses
    from kedro_azureml.local.snapshots import LocalSnapshots

RUNS_DIR = ".kedro-azureml/runs"
_SAFE_LABEL = re.compile(r"[^A-Za-z0-9_.-]+")


def new_run_dir(project_path: Path, pipeline_name: str) -> Path:
    """A new folder for one run, named for people: ``<timestamp>-<pipeline>``.

    The name only needs to be unique in this project; the run's data elsewhere (the
    temporary Blob container) is named by the run's random id instead.
    """
    stamp = time.strftime("%Y%m%d-%H%M%S")
    label = _SAFE_LABEL.sub("_", pipeline_name).strip("_.") or "default"
    runs = project_path / RUNS_DIR
    runs.mkdir(parents=True, exist_ok=True)
    name = f"{stamp}-{label[:60]}"
    for suffix in itertools.count(1):
        run_dir = runs / (name if suffix == 1 else f"{name}-{suffix}")
        try:
            run_dir.mkdir()  # atomic: of two runs started together, one gets each name
        except FileExistsError:
            continue
        return run_dir
    raise AssertionError("unreachable")


def run_local(
    project_path: Path,
    options: CompileOptions,
    *,
    grouping: str | None = None,
    from_yaml: Path | None = None,
    max_workers: int | None = None,
    mlflow: bool = True,
    console: Console | None = None,
    resume: str | None = None,
    job_request: JobRequest | None = None,
    subscription_id: str | None = None,
    remote_storage: bool = False,
    cold_start: bool = False,
) -> int:
    """Compile (unless given a YAML) and run the job's steps here; return the exit code.

    Steps fork from a warm interpreter (see ``local.warm_start``) unless ``cold_start`` or
    ``KEDRO_AZUREML_COLD_START=1``.

    0 when every step succeeded, 1 when one did not, 130 after Ctrl-C (128 + the signal).
    With ``resume`` (a run folder, or ``latest``), finish that run instead: its failed,
    interrupted and skipped steps run again, its succeeded ones are reused.
    ``subscription_id`` (``-s``) is needed only to download data asset inputs.
    With temporary storage (mode B) data crosses steps through local folders laid out like the
    container, unless ``remote_storage``: then through the real container, as on Azure ML.
    """
    from rich.console import Console

    from kedro_azureml.local.run_folder import find_run, read_run_record, run_folder_lock

    console = console or Console()
    record = None
    if resume is not None:
        run_dir = find_run(project_path / RUNS_DIR, resume)
        record = read_run_record(run_dir)
        if remote_storage and not record.remote_storage:
            raise KedroAzureMLError(
                f"Run {run_dir.name} passed its data through local folders; --resume finishes "
                "it the same way. Resume it without --remote-storage, or start a new run with it."
            )
        if from_yaml is None and record.from_yaml:
            from_yaml = Path(record.from_yaml)
        console.print(f"Resuming run {run_dir.name} ({record.run_id})", highlight=False)
    else:
        run_dir = new_run_dir(
            project_path, (job_request and job_request.job) or options.pipeline_name
        )
    with run_folder_lock(run_dir):
        return _run_in(
            run_dir,
            project_path,
            options,
            record=record,
            grouping=grouping,
            from_yaml=from_yaml,
            max_workers=max_workers,
            mlflow=mlflow,
            console=console,
            job_request=job_request,
            subscription_id=subscription_id,
            remote_storage=remote_storage,
            cold_start=cold_start,
        )


def _compiled_job(
    run_dir: Path,
    project_path: Path,
    options: CompileOptions,
    *,
    grouping: str | None,
    from_yaml: Path | None,
    resuming: bool,
    console: Console,
    job_request: JobRequest | None,
) -> tuple[Path, str, KedroProject | None]:
    """The job's YAML file and text: compiled into the run folder, or the given one."""
    from kedro_azureml.project.kedro_project import open_project

    if from_yaml is not None:
        from kedro_azureml.commands.job_secrets import (
            check_given_yaml_holds_no_secret,
            known_secrets,
        )

        yaml_path = from_yaml.resolve()
        yaml_text = yaml_path.read_text()
        check_given_yaml_holds_no_secret(yaml_text, str(from_yaml), known_secrets())
        return yaml_path, yaml_text, None
    yaml_path = run_dir / "pipeline.yaml"
    # A resume compiles beside the run's own YAML (same relative code path) to compare them.
    output = run_dir / ".pipeline.resume.yaml" if resuming else yaml_path
    started = time.perf_counter()
    key = _project_key(project_path, run_dir, options, grouping, job_request)
    cached, shortcut = _unchanged_project_job(project_path, key)
    project = None
    if cached is None or shortcut is None:
        project = open_project(project_path, options.env, options.params)
        compiled = compile_to_file(
            project_path, output, options, grouping=grouping, project=project, job=job_request
        )
        yaml_text = compiled.yaml_text
        shortcut = Shortcut(
            compiled.cache_key or "", len(compiled.plan.steps), compiled.env, compiled.env_origin
        )
        if compiled.cache_key:
            write_shortcut(project_path, key, shortcut)
    else:
        yaml_text = cached
        write_text_atomically(output, yaml_text)
    if resuming:
        output.unlink()
    else:
        seconds = time.perf_counter() - started
        console.print(
            f"Compiled {shortcut.steps} steps in {seconds:.2f}s -> {yaml_path}", highlight=False
        )
        console.print(env_note(shortcut.env, shortcut.env_origin), highlight=False)
    return yaml_path, yaml_text, project


def _project_key(
    project_path: Path,
    run_dir: Path,
    options: CompileOptions,
    grouping: str | None,
    job_request: JobRequest | None,
) -> str | None:
    """The shortcut's key (see ``compile_shortcut``); none for a named job or filters, whose
    compile also reads the data files a cut pipeline starts from."""
    if job_request is not None and (job_request.job or job_request.filters):
        return None
    code_from_yaml = os.path.relpath(project_path.resolve(), run_dir.resolve())
    return project_key(project_path, options, grouping, job_request, code_from_yaml)


def _unchanged_project_job(
    project_path: Path, key: str | None
) -> tuple[str | None, Shortcut | None]:
    """The YAML compiled from the project as it is now, if it was, checked again for this
    machine's secrets (its variables are in the key; the check is cheap)."""
    from kedro_azureml.commands.compile_cache import read_cached
    from kedro_azureml.commands.job_secrets import check_yaml_holds_no_secret, known_secrets

    shortcut = read_shortcut(project_path, key)
    yaml_text = read_cached(project_path, shortcut.yaml_key) if shortcut else None
    if yaml_text is not None:
        check_yaml_holds_no_secret(yaml_text, known_secrets())
    return yaml_text, shortcut


def _check_same_job(run_dir: Path, record: Any, yaml_text: str, from_yaml: Path | None) -> None:
    from kedro_azureml.local.run_folder import job_hash

    if job_hash(yaml_text) == record.job_sha256:
        return
    source = (
        f"the job YAML {from_yaml} has changed"
        if from_yaml is not None
        else "the project (or the options given now) compiles to a different job"
    )
    raise KedroAzureMLError(
        f"Cannot resume run {run_dir.name}: {source} since it started, and --resume only "
        f"finishes the very job it started (pipeline '{record.pipeline}'; compare with "
        f"{run_dir / 'pipeline.yaml'}). Undo the change, or pass the options the run was "
        "started with (-p, -e, --params, --env-var, ...), or start a new run without --resume."
    )


def _run_in(
    run_dir: Path,
    project_path: Path,
    options: CompileOptions,
    *,
    record: Any,
    from_yaml: Path | None,
    mlflow: bool,
    cold_start: bool = False,
    **settings: Any,
) -> int:
    """Run in ``run_dir``, the zygote the steps most likely fork from warming up already
    while the job compiles (and MLflow's store opens)."""
    from kedro_azureml.contract.storage_paths import new_local_run_id
    from kedro_azureml.local.processes import StepProcesses
    from kedro_azureml.local.snapshots import LocalSnapshots
    from kedro_azureml.local.tracking import step_imports
    from kedro_azureml.local.warm_start import cold_start_forced

    run_id = record.run_id if record is not None else new_local_run_id()
    warm = not (cold_start or cold_start_forced())
    # Every step gets an MLflow run, so a step's node may log to it: import that too.
    imports = step_imports((project_path / RUNS_DIR).parent, project_path / "src") if mlflow else ()
    processes = StepProcesses(warm_starts=warm, warm_imports=imports)
    snapshots = LocalSnapshots(run_id, run_dir, _copy_code_snapshot)
    try:
        if warm and from_yaml is None:
            _warm_up_early(processes, snapshots, project_path, options, run_id)
        return _compile_and_run(
            run_dir,
            project_path,
            options,
            record=record,
            run_id=run_id,
            from_yaml=from_yaml,
            mlflow=mlflow,
            processes=processes,
            snapshots=snapshots,
            **settings,
        )
    finally:  # the runner ends both too; not when the compile failed
        processes.close_warm()
        snapshots.cleanup()


def _warm_up_early(
    processes: StepProcesses,
    snapshots: LocalSnapshots,
    project_path: Path,
    options: CompileOptions,
    run_id: str,
) -> None:
    """Start the zygote of the steps' most likely folder and environment: the snapshot of the
    project (or of ``--code``) and the job's ``--env-var``s. Known for sure only once the job
    is compiled; the runner then ends it if no step runs there (``prepare_warm_only``)."""
    from kedro_azureml.local.runner import base_step_environment

    code = Path(options.code).resolve() if options.code else project_path.resolve()
    try:
        folder = snapshots.path_for(code)
    except (KedroAzureMLError, OSError):
        return  # the runner makes it again, and fails as it would have
    processes.prepare_warm(folder, base_step_environment(run_id, dict(options.env_vars)))


def _compile_and_run(
    run_dir: Path,
    project_path: Path,
    options: CompileOptions,
    *,
    record: Any,
    run_id: str,
    grouping: str | None,
    from_yaml: Path | None,
    max_workers: int | None,
    mlflow: bool,
    console: Console,
    job_request: JobRequest | None,
    subscription_id: str | None,
    remote_storage: bool,
    processes: StepProcesses,
    snapshots: LocalSnapshots,
) -> int:
    from kedro_azureml.local.job import read_steps
    from kedro_azureml.local.report import print_report, progress_printer
    from kedro_azureml.local.report_page import REPORT_FILE, report_html
    from kedro_azureml.local.run_folder import RunRecord, job_hash, succeeded_steps
    from kedro_azureml.local.runner import LocalJobRunner
    from kedro_azureml.project.kedro_project import open_project

    yaml_path, yaml_text, project = _compiled_job(
        run_dir,
        project_path,
        options,
        grouping=grouping,
        from_yaml=from_yaml,
        resuming=record is not None,
        console=console,
        job_request=job_request,
    )
    if record is not None:
        _check_same_job(run_dir, record, yaml_text, from_yaml)
    else:
        record = RunRecord(
            run_id=run_id,
            job_sha256=job_hash(yaml_text),
            pipeline=options.pipeline_name,
            from_yaml=str(yaml_path) if from_yaml is not None else None,
            started=time.time(),
            remote_storage=remote_storage,
        )
        record.write(run_dir)
    job = read_job_yaml(yaml_path)
    if from_yaml is not None and job_request and job_request.inputs:
        job["inputs"] = {**job.get("inputs", {}), **input_values_of_yaml(job, job_request.inputs)}
    steps = read_steps(job, yaml_path.parent)
    datastore = None
    if any(step.output_uris for step in steps):
        project = project or open_project(project_path, options.env, options.params)
        datastore = _temporary_container(project, run_dir, record.remote_storage, console)
    elif record.remote_storage:
        console.print(
            "[yellow]--remote-storage has no effect:[/] no data of this job crosses steps "
            "through the temporary container (pipeline data passing, or a single step).",
            highlight=False,
        )
    assets = None
    if any(step.asset_inputs for step in steps):
        project = project or open_project(project_path, options.env, options.params)
        assets = _workspace_assets(project, subscription_id)

    def open_tracking() -> Any:
        return _local_tracking(job, project_path, run_dir, console) if mlflow else None

    runner = LocalJobRunner(
        steps,
        open_tracking=open_tracking,
        datastore=datastore,
        assets=assets,
        run_dir=run_dir,
        project_dir=project_path,
        max_workers=max_workers,
        on_change=progress_printer(console, len(steps)),
        on_notice=lambda message: console.print(f"[bold yellow]{message}[/]", highlight=False),
        run_id=record.run_id,
        reuse=succeeded_steps(run_dir),
        processes=processes,
        snapshots=snapshots,
    )
    result = runner.run()
    write_text_atomically(run_dir / "summary.json", result.to_json())
    write_text_atomically(run_dir / REPORT_FILE, report_html(result))
    print_report(console, result)
    console.print(f"Timeline of the steps: {run_dir / REPORT_FILE}", highlight=False)
    # The run's files are written and closed: the interpreter's exit need not free, one by
    # one, what Kedro, the project, MLflow and SQLAlchemy loaded (a second here). The
    # operating system frees it at once; atexit handlers (logging's flush) still run.
    atexit.register(gc.freeze)
    return result.exit_code


def _local_tracking(
    job: dict[str, Any], project_path: Path, run_dir: Path, console: Console
) -> Any:
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


def _temporary_container(
    project: KedroProject, run_dir: Path, remote: bool, console: Console
) -> Any:
    """Where the steps' data goes between them, as Azure ML's datastore mounts would put it:
    a folder of the run laid out like the container, or with ``remote`` the container."""
    from kedro_azureml.contract.storage_paths import temp_datastore_name
    from kedro_azureml.errors import ConfigError
    from kedro_azureml.local.datastore import DatastoreFolders, local_container

    storage = project.config.azure.temporary_storage
    if storage is None:
        raise ConfigError(
            "The job passes data through the temporary Blob container, but azureml.yml has no "
            "azure.temporary_storage section."
        )
    datastore = temp_datastore_name(storage.account_name, storage.container)
    if not remote:
        folders = local_container(run_dir, storage.account_name, storage.container, datastore)
        console.print(f"Temporary data goes through {folders.where}", highlight=False)
        return folders
    from kedro_azureml.cloud.blob_folders import open_blob_container

    fs, where = open_blob_container(storage.account_name, storage.container)
    console.print(f"Temporary data goes through {where}", highlight=False)
    return DatastoreFolders(fs=fs, root=storage.container, datastore=datastore, where=where)


def _workspace_assets(project: KedroProject, subscription_id: str | None) -> Any:
    from kedro_azureml.cloud.assets import WorkspaceAssets

    return WorkspaceAssets(project.config.workspace(subscription_id))


def _copy_code_snapshot(code_directory: Path, destination: Path) -> tuple[list[str], str | None]:
    """What Azure ML would upload of ``code_directory`` (``.amlignore`` rules, no empty files),
    refused when Kedro could not run it there (no pyproject.toml, package or conf/base)."""
    from kedro_azureml.project.snapshot import copy_snapshot, scan_code_directory
    from kedro_azureml.project.snapshot_check import check_code_snapshot

    manifest = scan_code_directory(code_directory)
    check_code_snapshot(manifest)
    copy_snapshot(manifest, destination)
    return list(manifest.files), manifest.ignore_file
