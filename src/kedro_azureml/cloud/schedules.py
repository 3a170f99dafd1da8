"""Azure ML job schedules through the SDK: build, read, create or update, enable, delete.

A schedule made by kedro-azureml carries tags naming its project and job, and a fingerprint
of what it runs (trigger, compiled job, code), so that ``schedule`` can skip a schedule that
would not change and ``schedule list``/``--prune`` find this project's schedules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from kedro_azureml.cloud.client import AzureMLError, error_reason
from kedro_azureml.config_jobs import ScheduleConfig
from kedro_azureml.contract.sdk_warnings import quiet_sdk

PROJECT_TAG = "kedro_project"
JOB_TAG = "kedro_job"
FINGERPRINT_TAG = "kedro_azureml_fingerprint"
_INVALID = re.compile(r"[^a-z0-9\-_]+")


def schedule_name(project: str, job: str, index: int, count: int) -> str:
    """``<project>-<job>`` (``-2``, ``-3`` for a job's further schedules): stable across runs."""
    base = _INVALID.sub("-", f"{project}-{job}".lower()).strip("-_")
    return base if count == 1 or index == 0 else f"{base}-{index + 1}"


def build_trigger(config: ScheduleConfig) -> Any:
    with quiet_sdk():
        from azure.ai.ml.entities import CronTrigger, RecurrencePattern, RecurrenceTrigger

    if config.cron is not None:
        cron = config.cron
        return CronTrigger(
            expression=cron.expression,
            time_zone=cron.time_zone,
            start_time=cron.start_time,
            end_time=cron.end_time,
        )
    recurrence = config.recurrence
    assert recurrence is not None  # ScheduleConfig has exactly one trigger
    pattern = recurrence.schedule
    return RecurrenceTrigger(
        frequency=recurrence.frequency,
        interval=recurrence.interval,
        schedule=RecurrencePattern(
            hours=pattern.hours,
            minutes=pattern.minutes,
            week_days=pattern.week_days,
            month_days=pattern.month_days,
        )
        if pattern
        else None,
        time_zone=recurrence.time_zone,
        start_time=recurrence.start_time,
        end_time=recurrence.end_time,
    )


def build_schedule(
    name: str, job: Any, trigger: Any, *, tags: dict[str, str], description: str | None
) -> Any:
    with quiet_sdk():
        from azure.ai.ml.entities import JobSchedule

    return JobSchedule(
        name=name,
        trigger=trigger,
        create_job=job,
        display_name=name,
        description=description,
        tags=tags,
    )


def get_schedule(ml_client: Any, name: str) -> Any | None:
    from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

    try:
        with quiet_sdk():
            return ml_client.schedules.get(name)
    except ResourceNotFoundError:
        return None
    except HttpResponseError as exc:
        raise AzureMLError(f"Could not read schedule '{name}': {error_reason(exc)}") from exc


def put_schedule(ml_client: Any, schedule: Any) -> Any:
    """Create or update ``schedule`` (uploading its job's code and components first)."""
    from azure.ai.ml.exceptions import MlException
    from azure.core.exceptions import AzureError

    from kedro_azureml.cloud.client import _resolvable_environments

    _resolvable_environments(schedule.create_job)
    try:
        with quiet_sdk():
            return ml_client.schedules.begin_create_or_update(schedule).result()
    except (AzureError, MlException) as exc:  # AzureError: also a code upload that failed
        raise AzureMLError(
            f"Azure ML did not accept schedule '{schedule.name}': {error_reason(exc)}"
        ) from None


def project_schedules(ml_client: Any, project: str) -> list[Any]:
    """This project's schedules (by their tag), enabled or not, sorted by name."""
    from azure.core.exceptions import HttpResponseError

    try:
        with quiet_sdk():
            found = list(ml_client.schedules.list(list_view_type="All"))
    except HttpResponseError as exc:
        raise AzureMLError(f"Could not list schedules: {error_reason(exc)}") from exc
    mine = [s for s in found if (s.tags or {}).get(PROJECT_TAG) == project]
    return sorted(mine, key=lambda s: s.name)


def _operation(ml_client: Any, verb: str, name: str) -> None:
    from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

    operations = ml_client.schedules
    start = {
        "delete": operations.begin_delete,
        "enable": operations.begin_enable,
        "disable": operations.begin_disable,
    }[verb]
    try:
        with quiet_sdk():
            start(name).result()
    except ResourceNotFoundError as exc:
        raise AzureMLError(
            f"No schedule '{name}' in workspace '{ml_client.workspace_name}'; "
            "`kedro azureml schedule list` shows this project's schedules."
        ) from exc
    except HttpResponseError as exc:
        raise AzureMLError(f"Could not {verb} schedule '{name}': {error_reason(exc)}") from exc


def delete_schedule(ml_client: Any, name: str) -> None:
    _operation(ml_client, "delete", name)


def set_schedule_enabled(ml_client: Any, name: str, enabled: bool) -> None:
    _operation(ml_client, "enable" if enabled else "disable", name)


@dataclass(frozen=True)
class ScheduleRow:
    """One line of ``schedule list``."""

    name: str
    job: str
    enabled: bool
    trigger: str
    time_zone: str


def describe_trigger(trigger: Any) -> str:
    """``cron 0 2 * * *`` or ``every 1 day at 02:00``, as a person reads it."""
    expression = getattr(trigger, "expression", None)
    if expression:
        return f"cron {expression}"
    frequency = str(getattr(trigger, "frequency", "?")).lower()
    text = f"every {getattr(trigger, 'interval', 1)} {frequency}"
    pattern = getattr(trigger, "schedule", None)
    if pattern is not None:
        hours = _listed(pattern.hours)
        minutes = _listed(pattern.minutes)
        times = ", ".join(f"{h:02d}:{m:02d}" for h in hours for m in minutes)
        text += f" at {times}"
        for label, days in (("on", pattern.week_days), ("on days", pattern.month_days)):
            if days:
                text += f" {label} {', '.join(str(d) for d in _listed(days))}"
    return text


def _listed(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def schedule_row(schedule: Any) -> ScheduleRow:
    trigger = schedule.trigger
    return ScheduleRow(
        name=schedule.name,
        job=(schedule.tags or {}).get(JOB_TAG, "?"),
        enabled=bool(schedule.is_enabled),
        trigger=describe_trigger(trigger),
        time_zone=str(
            getattr(getattr(trigger, "time_zone", None), "value", None)
            or getattr(trigger, "time_zone", "UTC")
        ),
    )
