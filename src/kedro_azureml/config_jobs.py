"""The ``jobs:`` and ``schedules:`` sections of azureml.yml: named production jobs.

The format follows kedro-azureml-pipeline's, so users can copy their jobs over: a job names a
registered pipeline and Kedro's own filters (same names and meaning as ``kedro run``), the
settings of the Azure ML pipeline job, parameters exposed as pipeline inputs, per-step limits
and schedules. Like the rest of the config, every model forbids unknown keys.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from kedro_azureml.contract.grouping_strategies import GroupingStrategy
from kedro_azureml.contract.timezones import service_time_zone

WEEK_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# What users coming from `kedro run` or other plugins write, and where it goes here.
KEY_SYNONYMS = {
    "nodes": "node_names",
    "namespaces": "node_namespaces",
    "namespace": "node_namespaces",
    "experiment": "experiment_name",
    "cron_expression": "cron.expression",
    "timezone": "time_zone",
}
# Azure ML schedule and job names: start with a letter or digit; letters, digits, '-' and '_'.
JOB_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]*$")
_CRON_FIELD = re.compile(r"^[0-9A-Za-z*/,\-?#LW]+$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


def _time(value: Any) -> str | None:
    """An ISO 8601 local time of the trigger's zone, as the SDK sends it (no offset)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat()
    text = str(value).strip()
    try:
        datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"'{text}' is not a date and time like 2025-01-31T02:00:00") from None
    return text


class _TriggerTimes(_Model):
    time_zone: str = Field(
        default="UTC",
        description="Time zone of the trigger: an IANA name (Europe/Amsterdam) or a name Azure "
        "ML takes (W. Europe Standard Time); IANA names are converted.",
    )
    start_time: str | None = Field(
        default=None, description="First time the schedule may fire (ISO 8601, in time_zone)."
    )
    end_time: str | None = Field(
        default=None, description="Time after which the schedule never fires (ISO 8601)."
    )

    @field_validator("time_zone")
    @classmethod
    def _service_zone(cls, value: str) -> str:
        return service_time_zone(value)

    @field_validator("start_time", "end_time", mode="before")
    @classmethod
    def _iso_time(cls, value: Any) -> str | None:
        return _time(value)


class CronScheduleConfig(_TriggerTimes):
    """A cron trigger: ``{expression: "0 2 * * *", time_zone: UTC}``."""

    expression: str = Field(description="Cron expression: minute hour day month weekday.")

    @field_validator("expression")
    @classmethod
    def _five_fields(cls, value: str) -> str:
        fields = value.split()
        if len(fields) != 5 or not all(_CRON_FIELD.match(f) for f in fields):
            raise ValueError(
                f"'{value}' is not a cron expression of 5 fields (minute hour day month "
                "weekday), e.g. '0 2 * * *' for 02:00 every day"
            )
        return " ".join(fields)


class RecurrencePatternConfig(_Model):
    """When in each period a recurrence fires: ``{hours: [2], minutes: [0]}``."""

    hours: list[int] = Field(description="Hours of the day (0-23).")
    minutes: list[int] = Field(description="Minutes of the hour (0-59).")
    week_days: list[str] | None = Field(
        default=None, description="Days of the week (monday ... sunday), for frequency: week."
    )
    month_days: list[int] | None = Field(
        default=None, description="Days of the month (1-31), for frequency: month."
    )

    @field_validator("hours", "minutes", "week_days", "month_days", mode="before")
    @classmethod
    def _listed(cls, value: Any) -> Any:
        return [value] if isinstance(value, int | str) else value

    @model_validator(mode="after")
    def _in_range(self) -> RecurrencePatternConfig:
        for label, values, low, high in (
            ("hours", self.hours, 0, 23),
            ("minutes", self.minutes, 0, 59),
            ("month_days", self.month_days or [], 1, 31),
        ):
            wrong = [v for v in values if not low <= v <= high]
            if wrong:
                raise ValueError(f"{label} must be between {low} and {high}, got {wrong}")
        days = [d.lower() for d in self.week_days or []]
        unknown = [d for d in days if d not in WEEK_DAYS]
        if unknown:
            raise ValueError(f"week_days: {unknown} are not days; use {', '.join(WEEK_DAYS)}")
        if self.week_days is not None:
            self.week_days = days
        return self


class RecurrenceScheduleConfig(_TriggerTimes):
    """A recurrence trigger: ``{frequency: day, interval: 1, schedule: {...}}``."""

    frequency: Literal["minute", "hour", "day", "week", "month"] = Field(
        description="Unit of the interval."
    )
    interval: int = Field(ge=1, description="Fire every `interval` units of `frequency`.")
    schedule: RecurrencePatternConfig | None = Field(
        default=None, description="Hours, minutes and days at which it fires."
    )


class ScheduleConfig(_Model):
    """One schedule: exactly one of ``cron`` or ``recurrence`` (or, in a job, a ``schedules:``
    entry's name, read into ``ref``)."""

    cron: CronScheduleConfig | None = Field(default=None, description="A cron trigger.")
    recurrence: RecurrenceScheduleConfig | None = Field(
        default=None, description="A recurrence trigger."
    )
    ref: str | None = Field(
        default=None, exclude=True, description="Internal: the name of a schedules: entry."
    )

    @model_validator(mode="after")
    def _one_trigger(self) -> ScheduleConfig:
        if sum(x is not None for x in (self.cron, self.recurrence, self.ref)) != 1:
            raise ValueError("give exactly one of cron or recurrence")
        return self


class JobPipelineConfig(_Model):
    """Which nodes a job runs: a registered pipeline and Kedro's own filters (``kedro run``)."""

    pipeline_name: str = Field(default="__default__", description="A registered pipeline.")
    node_names: list[str] | None = Field(
        default=None, description="Run only these nodes (kedro run --nodes)."
    )
    from_nodes: list[str] | None = Field(
        default=None, description="Start from these nodes (kedro run --from-nodes)."
    )
    to_nodes: list[str] | None = Field(
        default=None, description="End at these nodes (kedro run --to-nodes)."
    )
    from_inputs: list[str] | None = Field(
        default=None, description="Start from these datasets (kedro run --from-inputs)."
    )
    to_outputs: list[str] | None = Field(
        default=None, description="End at these datasets (kedro run --to-outputs)."
    )
    node_namespaces: list[str] | None = Field(
        default=None, description="Run only nodes in these namespaces (kedro run --namespaces)."
    )
    tags: list[str] | None = Field(
        default=None, description="Run only nodes with these tags (kedro run --tags)."
    )

    @field_validator(
        "node_names",
        "from_nodes",
        "to_nodes",
        "from_inputs",
        "to_outputs",
        "node_namespaces",
        "tags",
        mode="before",
    )
    @classmethod
    def _listed(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    def filters(self) -> dict[str, list[str]]:
        """The filters that are set, as keyword arguments of Kedro's ``Pipeline.filter``."""
        return {
            name: list(value)
            for name, value in self.model_dump(exclude={"pipeline_name"}).items()
            if value
        }


class JobLimitsConfig(_Model):
    timeout: int = Field(
        gt=0, description="Seconds a step may run before Azure ML stops it (limits.timeout)."
    )


class JobConfig(_Model):
    """A named production job: ``kedro azureml compile|run|schedule -j NAME``."""

    pipeline: JobPipelineConfig = Field(
        default_factory=JobPipelineConfig, description="The pipeline and Kedro filters it runs."
    )
    experiment_name: str | None = Field(
        default=None, description="Azure ML experiment; default: azure.experiment_name."
    )
    display_name: str | None = Field(
        default=None, description="Display name of the job; default: the pipeline name."
    )
    description: str | None = Field(default=None, description="Description of the job.")
    tags: dict[str, str] = Field(
        default_factory=dict, description="Job tags, added to the plugin's own."
    )
    compute: str | None = Field(
        default=None, description="A compute alias of azure.compute: the job's default compute."
    )
    grouping: GroupingStrategy | None = Field(default=None, description="Overrides azure.grouping.")
    params: dict[str, Any] = Field(
        default_factory=dict, description="Parameter overrides, under --params (CLI wins)."
    )
    inputs: list[str] = Field(
        default_factory=list,
        description="Parameters (dotted paths) exposed as inputs of the Azure ML pipeline job.",
    )
    limits: JobLimitsConfig | None = Field(default=None, description="Per-step limits.")
    # One list type (names read as refs) rather than a union: a mistake in a schedule is then
    # reported once, at its own key, not once per alternative of the union.
    schedule: list[ScheduleConfig] = Field(
        default_factory=list,
        description="A schedule, a list of them, or the name of an entry of `schedules:`.",
    )
    continue_on_step_failure: bool | None = Field(
        default=None, description="Let independent steps go on after a step fails."
    )
    force_rerun: bool | None = Field(
        default=None, description="Run every step, never reusing a previous run's outputs."
    )

    @field_validator("tags", mode="before")
    @classmethod
    def _text_tags(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k): "" if v is None else str(v) for k, v in value.items()}
        return value

    @field_validator("schedule", mode="before")
    @classmethod
    def _schedule_entries(cls, value: Any) -> Any:
        if value is None:
            return []
        entries = value if isinstance(value, list) else [value]
        return [{"ref": e} if isinstance(e, str) else e for e in entries]

    @field_validator("inputs")
    @classmethod
    def _unique_inputs(cls, value: list[str]) -> list[str]:
        repeated = sorted({v for v in value if value.count(v) > 1})
        if repeated:
            raise ValueError(f"listed more than once: {', '.join(repeated)}")
        return value


def check_jobs(
    jobs: dict[str, JobConfig], schedules: dict[str, ScheduleConfig], compute: set[str]
) -> list[str]:
    """What is wrong across sections: names, compute aliases, named schedules."""
    problems = [
        f"schedules.{name}: give cron or recurrence" for name, s in schedules.items() if s.ref
    ]
    for name, job in jobs.items():
        if not JOB_NAME.match(name):
            problems.append(
                f"jobs.{name}: a job name holds letters, digits, '-' and '_' and starts with a "
                "letter or digit (it names Azure ML schedules)"
            )
        if job.compute is not None and job.compute not in compute:
            problems.append(
                f"jobs.{name}.compute: '{job.compute}' is not a compute alias of azure.compute "
                f"(known: {', '.join(sorted(compute))})"
            )
        for entry in job.schedule:
            if entry.ref is not None and entry.ref not in schedules:
                known = ", ".join(sorted(schedules)) or "none"
                problems.append(
                    f"jobs.{name}.schedule: '{entry.ref}' is not an entry of the top-level "
                    f"schedules: map (known: {known})"
                )
    return problems


def job_schedules(job: JobConfig, schedules: dict[str, ScheduleConfig]) -> list[ScheduleConfig]:
    """The job's schedules, named ones looked up in ``schedules:``."""
    return [schedules[e.ref] if e.ref is not None else e for e in job.schedule]
