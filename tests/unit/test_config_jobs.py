"""The jobs: and schedules: sections of azureml.yml (config_jobs.py), and time zone names."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kedro_azureml.config import parse_config
from kedro_azureml.config_jobs import job_schedules
from kedro_azureml.contract.timezones import SERVICE_TIME_ZONES, service_time_zone
from kedro_azureml.errors import ConfigError

BASE: dict[str, Any] = {
    "azure": {
        "resource_group": "rg",
        "workspace_name": "ws",
        "experiment_name": "exp",
        "compute": {"__default__": {"cluster_name": "cpu"}, "chunky": {"cluster_name": "big"}},
        "environment_name": "kedro-env@latest",
    }
}
# The issue's example, as a user coming from kedro-azureml-pipeline would write it.
NIGHTLY: dict[str, Any] = {
    "pipeline": {
        "pipeline_name": "__default__",
        "to_nodes": ["model.score"],
        "node_namespaces": ["model"],
        "tags": ["nightly"],
    },
    "experiment_name": "orders-nightly",
    "display_name": "orders nightly scoring",
    "description": "nightly scoring of customers",
    "tags": {"team": "growth", "cost_center": 42},
    "compute": "chunky",
    "grouping": "namespace",
    "params": {"scoring": {"weight": 2.5}},
    "inputs": ["scoring.weight"],
    "limits": {"timeout": 1800},
    "schedule": {"cron": {"expression": "0 2 * * *", "time_zone": "UTC"}},
    "continue_on_step_failure": True,
    "force_rerun": False,
}


def _config(jobs: dict[str, Any], schedules: dict[str, Any] | None = None) -> Any:
    data = copy.deepcopy(BASE)
    data["jobs"] = jobs
    if schedules is not None:
        data["schedules"] = schedules
    return parse_config(data, source="conf/base/azureml.yml")


def _error(jobs: dict[str, Any], schedules: dict[str, Any] | None = None) -> str:
    with pytest.raises(ConfigError) as error:
        _config(jobs, schedules)
    message = str(error.value)
    assert "conf/base/azureml.yml" in message
    return message


def test_without_jobs_nothing_changes() -> None:
    config = parse_config(copy.deepcopy(BASE))
    assert config.jobs == {} and config.schedules == {}


def test_the_issues_job_is_read_whole() -> None:
    job = _config({"nightly": NIGHTLY}).jobs["nightly"]
    assert job.pipeline.filters() == {
        "to_nodes": ["model.score"],
        "node_namespaces": ["model"],
        "tags": ["nightly"],
    }
    assert job.tags == {"team": "growth", "cost_center": "42"}
    assert (job.compute, job.grouping, job.limits and job.limits.timeout) == (
        "chunky",
        "namespace",
        1800,
    )
    assert job.params == {"scoring": {"weight": 2.5}} and job.inputs == ["scoring.weight"]
    (schedule,) = job.schedule
    assert schedule.cron is not None and schedule.cron.expression == "0 2 * * *"
    assert (job.continue_on_step_failure, job.force_rerun) == (True, False)


def test_schedules_single_list_and_named() -> None:
    config = _config(
        {
            "a": {"schedule": "daily"},
            "b": {"schedule": ["daily", {"cron": {"expression": "30 1 * * 1-5"}}]},
            "c": {},
        },
        {
            "daily": {
                "recurrence": {
                    "frequency": "day",
                    "interval": 1,
                    "schedule": {"hours": 2, "minutes": [0, 30]},
                    "time_zone": "Europe/Amsterdam",
                    "start_time": "2025-01-01T00:00:00",
                }
            }
        },
    )
    (daily,) = job_schedules(config.jobs["a"], config.schedules)
    assert daily.recurrence is not None
    assert daily.recurrence.time_zone == "W. Europe Standard Time"
    assert daily.recurrence.schedule is not None and daily.recurrence.schedule.hours == [2]
    both = job_schedules(config.jobs["b"], config.schedules)
    assert [s.cron.expression if s.cron else "daily" for s in both] == ["daily", "30 1 * * 1-5"]
    assert job_schedules(config.jobs["c"], config.schedules) == []


@pytest.mark.parametrize(
    ("jobs", "expected"),
    [
        pytest.param(
            {"n": {"pipeline": {"nodes": ["a"]}}},
            "jobs.n.pipeline.nodes: Extra inputs are not permitted (did you mean node_names?)",
            id="kedro-cli-name",
        ),
        pytest.param(
            {"n": {"node_names": ["a"]}},
            "jobs.n.node_names: Extra inputs are not permitted "
            "(did you mean jobs.<name>.pipeline.node_names?)",
            id="misplaced-filter",
        ),
        pytest.param(
            {"n": {"timeout": 60}},
            "jobs.n.timeout: Extra inputs are not permitted "
            "(did you mean jobs.<name>.limits.timeout?)",
            id="timeout-synonym",
        ),
        pytest.param(
            {"n": {"schedule": {"cron": {"expression": "0 2 * *"}}}},
            "jobs.n.schedule.0.cron.expression: '0 2 * *' is not a cron expression of 5 fields",
            id="cron-four-fields",
        ),
        pytest.param(
            {
                "n": {
                    "schedule": {
                        "cron": {"expression": "0 2 * * *"},
                        "recurrence": {"frequency": "day", "interval": 1},
                    }
                }
            },
            "give exactly one of cron or recurrence",
            id="trigger-count",
        ),
        pytest.param(
            {"n": {"schedule": {}}},
            "jobs.n.schedule.0: give exactly one of cron or recurrence",
            id="no-trigger",
        ),
        pytest.param(
            {"n": {"schedule": {"crn": {"expression": "0 2 * * *"}}}},
            "jobs.n.schedule.0.crn: Extra inputs are not permitted",
            id="trigger-typo",
        ),
        pytest.param(
            {"n": {"schedule": {"recurrence": {"frequency": "fortnight", "interval": 1}}}},
            "jobs.n.schedule.0.recurrence.frequency: Input should be 'minute', 'hour', 'day', "
            "'week' or 'month'",
            id="frequency",
        ),
        pytest.param(
            {
                "n": {
                    "schedule": {
                        "recurrence": {
                            "frequency": "week",
                            "interval": 1,
                            "schedule": {"hours": [25], "minutes": [0], "week_days": ["Friday"]},
                        }
                    }
                }
            },
            "hours must be between 0 and 23, got [25]",
            id="hour-range",
        ),
        pytest.param(
            {"n": {"schedule": {"cron": {"expression": "0 2 * * *", "start_time": "tomorrow"}}}},
            "'tomorrow' is not a date and time like 2025-01-31T02:00:00",
            id="start-time",
        ),
        pytest.param(
            {"n": {"compute": "gpu"}},
            "jobs.n.compute: 'gpu' is not a compute alias of azure.compute "
            "(known: __default__, chunky)",
            id="unknown-compute",
        ),
        pytest.param(
            {"n": {"schedule": "weekly"}},
            "jobs.n.schedule: 'weekly' is not an entry of the top-level schedules: map "
            "(known: none)",
            id="unknown-named-schedule",
        ),
        pytest.param(
            {"n": {"inputs": ["a.b", "a.b"]}}, "listed more than once: a.b", id="input-twice"
        ),
        pytest.param(
            {"n": {"limits": {"timeout": 0}}},
            "jobs.n.limits.timeout: Input should be greater than 0",
            id="zero-timeout",
        ),
        pytest.param(
            {"nightly run": {}},
            "jobs.nightly run: a job name holds letters, digits, '-' and '_'",
            id="job-name",
        ),
        pytest.param(
            {"n": {"grouping": "nodes"}}, "jobs.n.grouping: Input should be", id="grouping"
        ),
    ],
)
def test_mistakes_name_the_key_and_the_fix(jobs: dict[str, Any], expected: str) -> None:
    assert expected in _error(jobs)


def test_a_named_schedule_needs_a_trigger() -> None:
    message = _error({}, {"daily": {"cron": {"expression": "0 2 * * *", "time_zone": "Mars"}}})
    assert "schedules.daily.cron.time_zone: unknown time zone 'Mars'" in message


@pytest.mark.parametrize(
    ("name", "service"),
    [
        pytest.param("UTC", "UTC", id="utc"),
        pytest.param("utc", "UTC", id="case"),
        pytest.param("Etc/UTC", "UTC", id="etc-utc"),
        pytest.param("Europe/Amsterdam", "W. Europe Standard Time", id="iana"),
        pytest.param("America/New_York", "Eastern Standard Time", id="iana-us"),
        pytest.param("Asia/Kolkata", "India Standard Time", id="iana-india"),
        pytest.param("W. Europe Standard Time", "W. Europe Standard Time", id="service-name"),
    ],
)
def test_time_zones_become_the_services_names(name: str, service: str) -> None:
    assert service_time_zone(name) == service
    assert service in SERVICE_TIME_ZONES


def test_unknown_time_zone_lists_close_matches() -> None:
    with pytest.raises(ValueError, match="close matches: Europe/Amsterdam"):
        service_time_zone("Europe/Amsterdm")


def test_zone_the_service_does_not_take_is_refused_with_same_offset_zones() -> None:
    # CLDR maps Europe/Volgograd to "Volgograd Standard Time", which is not in the SDK's list.
    with pytest.raises(ValueError) as error:
        service_time_zone("Europe/Volgograd")
    message = str(error.value)
    assert "Windows zone 'Volgograd Standard Time', which Azure ML schedules do not take" in message
    assert "same UTC offset today:" in message


def test_service_time_zones_equal_the_sdks() -> None:
    from azure.ai.ml.constants import TimeZone

    assert list(SERVICE_TIME_ZONES) == [zone.value for zone in TimeZone]
