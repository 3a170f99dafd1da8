"""``kedro azureml schedule``: the schedules of azureml.yml's jobs, in the workspace.

Each scheduled job is compiled and checked exactly as ``run`` would (secrets, conf in the
snapshot, storage key, compute clusters, environment), then its schedules are created or
updated. A schedule is named ``<project>-<job>`` and tagged with the project, the job and a
fingerprint of what it runs (trigger, compiled job, code), so a second call finds nothing to
change and creates nothing; ``--prune`` deletes this project's schedules whose job no longer
has them. Unpinned data assets are not pinned here: every scheduled run reads the latest.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kedro_azureml.commands.jobs import JobRequest, select_job
from kedro_azureml.compiler.render import CompileOptions
from kedro_azureml.config import AzureMLConfig
from kedro_azureml.config_jobs import job_schedules
from kedro_azureml.errors import ConfigError
from kedro_azureml.project.kedro_project import KedroProject


@dataclass(frozen=True)
class ScheduleSettings:
    env: str | None = None
    subscription_id: str | None = None
    jobs: tuple[str, ...] = ()  # none: every job with a schedule
    dry_run: bool = False
    prune: bool = False
    allow_secrets_upload: bool = False


@dataclass(frozen=True)
class DesiredSchedule:
    name: str
    job: str
    schedule: Any  # azure.ai.ml JobSchedule
    fingerprint: str


def scheduled_jobs(config: AzureMLConfig, asked: tuple[str, ...]) -> list[str]:
    """The jobs to schedule: those asked for (each must have a schedule), else all scheduled."""
    from kedro_azureml.commands.jobs import job_config

    for name in asked:
        job = job_config(config, name)
        if job is not None and not job.schedule:
            raise ConfigError(
                f"Job '{name}' has no schedule: add jobs.{name}.schedule to azureml.yml (e.g. "
                '{cron: {expression: "0 2 * * *", time_zone: UTC}}), or leave it out of -j.'
            )
    return list(dict.fromkeys(asked)) or [n for n, j in config.jobs.items() if j.schedule]


def schedule_names(project: KedroProject) -> dict[str, str]:
    """``{schedule name: job}`` of every schedule azureml.yml declares."""
    from kedro_azureml.cloud.schedules import schedule_name

    names = {}
    for job_name, job in project.config.jobs.items():
        count = len(job.schedule)
        for index in range(count):
            names[schedule_name(project.package_name, job_name, index, count)] = job_name
    return names


def schedule_jobs(
    project_path: Path,
    settings: ScheduleSettings,
    *,
    console: Any = None,
    interactive: bool | None = None,
) -> None:
    from rich.console import Console

    from kedro_azureml.cloud.auth import is_interactive
    from kedro_azureml.commands.submit import _connect
    from kedro_azureml.project.kedro_project import open_project

    console = console or Console()
    interactive = is_interactive() if interactive is None else interactive
    project = open_project(project_path, settings.env)
    jobs = scheduled_jobs(project.config, settings.jobs)
    if not jobs and not settings.prune:
        raise ConfigError(
            "No job in azureml.yml has a schedule: add jobs.<name>.schedule, then run "
            "`kedro azureml schedule`."
        )
    ml_client = _connect(project.config.workspace(settings.subscription_id), interactive)
    for job in jobs:
        _schedule_job(ml_client, project, job, settings, console, interactive)
    if settings.prune:
        prune_schedules(ml_client, project, settings.dry_run, console)


def _schedule_job(
    ml_client: Any,
    project: KedroProject,
    job_name: str,
    settings: ScheduleSettings,
    console: Any,
    interactive: bool,
) -> None:
    from kedro_azureml.commands.compile import compile_project
    from kedro_azureml.commands.job_secrets import known_secrets
    from kedro_azureml.commands.submit import check_docker_image, check_workspace, stage_code

    selected = select_job(project, CompileOptions(env=settings.env), JobRequest(job=job_name))
    job_project, options = selected.project, selected.options
    with tempfile.TemporaryDirectory(prefix="kedro-azureml-code-") as staging:
        manifest, account_key, options = stage_code(
            job_project, options, Path(staging), settings.allow_secrets_upload, console, interactive
        )
        compiled = compile_project(
            job_project,
            options,
            yaml_dir=job_project.path,
            grouping=selected.grouping,
            secrets=known_secrets(account_key, job_project.credential_secrets),
        )
        if manifest is None:
            check_docker_image(compiled.job)
        check_workspace(ml_client, job_project.config, compiled)
        code_hash = _code_hash(manifest)
        yaml_text = compiled.yaml_text.replace(options.code or "\0", "<code>")
        desired = _desired(job_project, job_name, compiled, yaml_text + code_hash)
        pending = [d for d in desired if _changed(ml_client, d, console, settings.dry_run)]
        if pending and not settings.dry_run:
            _register_datastore(ml_client, job_project.config, account_key, console)
            from kedro_azureml.cloud.schedules import get_schedule, put_schedule

            for item in pending:
                existing = get_schedule(ml_client, item.name)
                if existing is not None:
                    item.schedule._is_enabled = existing.is_enabled  # keep a disabled one off
                put_schedule(ml_client, item.schedule)
                verb = "updated" if existing is not None else "created"
                console.print(f"Schedule {item.name} (job {item.job}): {verb}", highlight=False)


def _code_hash(manifest: Any) -> str:
    digest = hashlib.sha256()
    for name in manifest.files if manifest is not None else ():
        digest.update(name.encode() + b"\0" + (manifest.root / name).read_bytes() + b"\0")
    return digest.hexdigest()


def _desired(
    project: KedroProject, job_name: str, compiled: Any, content: str
) -> list[DesiredSchedule]:
    from kedro_azureml.cloud.schedules import (
        FINGERPRINT_TAG,
        JOB_TAG,
        PROJECT_TAG,
        build_schedule,
        build_trigger,
        schedule_name,
    )

    job = project.config.jobs[job_name]
    triggers = job_schedules(job, project.config.schedules)
    desired = []
    for index, trigger in enumerate(triggers):
        name = schedule_name(project.package_name, job_name, index, len(triggers))
        text = json.dumps(trigger.model_dump(mode="json"), sort_keys=True) + name + content
        fingerprint = hashlib.sha256(text.encode()).hexdigest()[:32]
        tags = {PROJECT_TAG: project.package_name, JOB_TAG: job_name, FINGERPRINT_TAG: fingerprint}
        schedule = build_schedule(
            name,
            compiled.job,
            build_trigger(trigger),
            tags=tags,
            description=job.description
            or f"kedro-azureml job {job_name} of {project.package_name}",
        )
        desired.append(DesiredSchedule(name, job_name, schedule, fingerprint))
    return desired


def _changed(ml_client: Any, desired: DesiredSchedule, console: Any, dry_run: bool) -> bool:
    """Whether the schedule must be created or updated; says so, or that it is unchanged."""
    from kedro_azureml.cloud.schedules import FINGERPRINT_TAG, describe_trigger, get_schedule

    existing = get_schedule(ml_client, desired.name)
    what = (
        f"Schedule {desired.name} (job {desired.job}, {describe_trigger(desired.schedule.trigger)})"
    )
    if existing is not None and (existing.tags or {}).get(FINGERPRINT_TAG) == desired.fingerprint:
        console.print(f"{what}: unchanged", highlight=False)
        return False
    if dry_run:
        verb = "updated" if existing is not None else "created"
        console.print(f"{what}: would be {verb} (dry run)", highlight=False)
    return True


def _register_datastore(
    ml_client: Any, config: AzureMLConfig, account_key: str | None, console: Any
) -> None:
    storage = config.azure.temporary_storage
    if not config.uses_temporary_storage or storage is None:
        return
    from kedro_azureml.cloud.client import ensure_temporary_datastore

    name = ensure_temporary_datastore(ml_client, storage, account_key)
    if storage.auth == "sas":
        console.print(
            f"[yellow]Warning:[/] datastore {name}'s SAS token expires in "
            f"{storage.sas_ttl_days:g} days; scheduled runs after that cannot reach the "
            "temporary container. Use temporary_storage.auth: identity or pipeline data "
            "passing for schedules.",
            highlight=False,
        )


def prune_schedules(ml_client: Any, project: KedroProject, dry_run: bool, console: Any) -> None:
    """Delete this project's schedules that azureml.yml no longer declares."""
    from kedro_azureml.cloud.schedules import JOB_TAG, delete_schedule, project_schedules

    wanted = schedule_names(project)
    stale = [s for s in project_schedules(ml_client, project.package_name) if s.name not in wanted]
    for schedule in stale:
        job = (schedule.tags or {}).get(JOB_TAG, "?")
        if dry_run:
            console.print(f"Schedule {schedule.name} (job {job}): would be deleted (dry run)")
            continue
        delete_schedule(ml_client, schedule.name)
        console.print(
            f"Schedule {schedule.name} (job {job}): deleted, azureml.yml no longer declares it",
            highlight=False,
        )
    if not stale:
        console.print("No schedule to prune.", highlight=False)


def _project_client(
    project_path: Path, env: str | None, subscription_id: str | None
) -> tuple[KedroProject, Any]:
    from kedro_azureml.cloud.auth import is_interactive
    from kedro_azureml.commands.submit import _connect
    from kedro_azureml.project.kedro_project import open_project

    project = open_project(project_path, env)
    workspace = project.config.workspace(subscription_id)
    return project, _connect(workspace, is_interactive())


def list_schedules(
    project_path: Path, env: str | None, subscription_id: str | None, *, console: Any = None
) -> None:
    """A table of this project's schedules: job, enabled, trigger, next run."""
    from rich.console import Console
    from rich.table import Table

    from kedro_azureml.cloud.schedules import project_schedules, schedule_row
    from kedro_azureml.commands.next_run import next_run

    console = console or Console()
    project, ml_client = _project_client(project_path, env, subscription_id)
    schedules = project_schedules(ml_client, project.package_name)
    if not schedules:
        console.print(f"No schedules of project {project.package_name}.", highlight=False)
        return
    table = Table(title=f"Schedules of {project.package_name}", title_justify="left")
    for column in ("Schedule", "Job", "Enabled", "Trigger", "Time zone", "Next run"):
        table.add_column(column)
    for schedule in schedules:
        row = schedule_row(schedule)
        upcoming = next_run(schedule.trigger) if row.enabled else None
        table.add_row(
            row.name,
            row.job,
            "yes" if row.enabled else "no",
            row.trigger,
            row.time_zone,
            upcoming.strftime("%Y-%m-%d %H:%M") if upcoming else "-",
        )
    console.print(table)


def manage_schedule(
    project_path: Path,
    env: str | None,
    subscription_id: str | None,
    verb: str,
    name: str,
    *,
    console: Any = None,
) -> None:
    """``delete``, ``enable`` or ``disable`` one schedule by name."""
    from rich.console import Console

    from kedro_azureml.cloud.schedules import delete_schedule, set_schedule_enabled

    console = console or Console()
    _, ml_client = _project_client(project_path, env, subscription_id)
    if verb == "delete":
        delete_schedule(ml_client, name)
    else:
        set_schedule_enabled(ml_client, name, verb == "enable")
    console.print(f"Schedule {name}: {verb}d", highlight=False)
