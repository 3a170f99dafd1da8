"""Schedule names, trigger descriptions and next runs (schedule list)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from kedro_azureml.cloud.schedules import describe_trigger, schedule_name
from kedro_azureml.commands.next_run import next_run

NOW = datetime(2025, 3, 10, 14, 30, 20, tzinfo=timezone.utc)  # a Monday


def test_schedule_names_are_stable_and_valid() -> None:
    assert schedule_name("spaceflights", "nightly", 0, 1) == "spaceflights-nightly"
    assert schedule_name("My_Proj", "Night Run", 1, 2) == "my_proj-night-run-2"


@pytest.mark.parametrize(
    ("expression", "zone", "expected"),
    [
        pytest.param("0 2 * * *", "UTC", "2025-03-11 02:00+00:00", id="daily"),
        pytest.param("0 2 * * *", "W. Europe Standard Time", "2025-03-11 02:00+01:00", id="cet"),
        pytest.param("*/15 * * * *", "UTC", "2025-03-10 14:45+00:00", id="step"),
        pytest.param("0 9 * * 1-5", "UTC", "2025-03-11 09:00+00:00", id="weekdays"),
        pytest.param("0 9 1 * SUN", "UTC", "2025-03-16 09:00+00:00", id="either-day-field"),
        pytest.param("30 6 29 2 *", "UTC", "2028-02-29 06:30+00:00", id="leap-day"),
    ],
)
def test_next_run_of_a_cron_trigger(expression: str, zone: str, expected: str) -> None:
    from azure.ai.ml.entities import CronTrigger

    found = next_run(CronTrigger(expression=expression, time_zone=zone), NOW)
    assert found is not None and found.strftime("%Y-%m-%d %H:%M%z")[:-2] + ":00" == expected


def test_next_run_of_recurrences() -> None:
    from azure.ai.ml.entities import RecurrencePattern, RecurrenceTrigger

    weekly = RecurrenceTrigger(
        frequency="week",
        interval=1,
        schedule=RecurrencePattern(hours=[2], minutes=[0], week_days=["friday"]),
    )
    every_six = RecurrenceTrigger(frequency="hour", interval=6, start_time="2025-03-10T01:00:00")
    assert str(next_run(weekly, NOW)) == "2025-03-14 02:00:00+00:00"
    assert str(next_run(every_six, NOW)) == "2025-03-10 19:00:00+00:00"
    assert describe_trigger(weekly) == "every 1 week at 02:00 on friday"


def test_an_ended_schedule_has_no_next_run() -> None:
    from azure.ai.ml.entities import CronTrigger

    ended = CronTrigger(expression="0 2 * * *", end_time="2025-01-01T00:00:00")
    assert next_run(ended, NOW) is None
