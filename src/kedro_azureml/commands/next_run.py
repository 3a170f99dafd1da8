"""When a schedule fires next, for ``schedule list`` (Azure ML does not report it).

Cron expressions and recurrence patterns become ``dateutil`` rules evaluated in the trigger's
time zone (the service's Windows-style name mapped back to IANA through tzlocal's CLDR table).
Standard 5-field cron: numbers, ``*``, ranges, steps, lists and three-letter day and month
names; when both day fields are restricted, either matching is enough, as in cron.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))


def _number(text: str, field: int) -> int:
    lowered = text.lower()
    if field == 4 and lowered in _DAYS:
        return _DAYS.index(lowered)
    if field == 3 and lowered in _MONTHS:
        return _MONTHS.index(lowered) + 1
    return int(text)


def _cron_field(text: str, field: int) -> list[int] | None:
    """The values a cron field allows; None for ``*`` (any)."""
    low, high = _RANGES[field]
    if text in ("*", "?"):
        return None
    values: set[int] = set()
    for part in text.split(","):
        spread, _, step = part.partition("/")
        if spread in ("*", "?"):
            start, end = low, high
        elif "-" in spread:
            first, last = spread.split("-", 1)
            start, end = _number(first, field), _number(last, field)
        else:
            start = end = _number(spread, field)
            if step:
                end = high
        values.update(range(start, end + 1, int(step) if step else 1))
    return sorted(values)


def _zone(name: str) -> Any:
    from zoneinfo import ZoneInfo

    from tzlocal.windows_tz import win_tz

    return ZoneInfo(win_tz.get(name, "Etc/UTC"))


def _weekdays(days: list[int] | None) -> list[int] | None:
    """Cron days (0 and 7 = Sunday) as dateutil weekdays (0 = Monday)."""
    return None if days is None else sorted({(d - 1) % 7 for d in days})


def _cron_next(expression: str, start: datetime) -> datetime | None:
    from dateutil.rrule import MINUTELY, rrule

    minute, hour, dom, month, dow = (_cron_field(f, i) for i, f in enumerate(expression.split()))
    rule: dict[str, Any] = {"byminute": minute, "byhour": hour, "bymonth": month}
    choices = []
    if dom is not None and dow is not None:  # cron: either day field matching is enough
        options: list[dict[str, Any]] = [{"bymonthday": dom}, {"byweekday": _weekdays(dow)}]
    else:
        options = [{"bymonthday": dom, "byweekday": _weekdays(dow)}]
    for option in options:
        found = rrule(MINUTELY, dtstart=start, count=1, **rule, **option)
        choices += list(found)
    return min(choices) if choices else None


def _recurrence_next(trigger: Any, start: datetime, first: datetime) -> datetime | None:
    from dateutil.rrule import DAILY, HOURLY, MINUTELY, MONTHLY, WEEKLY, rrule

    frequency = {"minute": MINUTELY, "hour": HOURLY, "day": DAILY, "week": WEEKLY}.get(
        str(trigger.frequency).lower(), MONTHLY
    )
    pattern = trigger.schedule
    by: dict[str, Any] = {}
    if pattern is not None and (pattern.hours or pattern.minutes):
        by = {"byhour": pattern.hours or None, "byminute": pattern.minutes or None, "bysecond": 0}
    if pattern is not None:
        if pattern.week_days:
            days = [d.lower()[:3] for d in _as_list(pattern.week_days)]
            by["byweekday"] = [(_DAYS.index(d) - 1) % 7 for d in days]
        if pattern.month_days:
            by["bymonthday"] = pattern.month_days
    return rrule(frequency, dtstart=first, interval=int(trigger.interval or 1), **by).after(
        start, inc=True
    )


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def next_run(trigger: Any, now: datetime | None = None) -> datetime | None:
    """The next time ``trigger`` (an SDK CronTrigger or RecurrenceTrigger) fires, or None."""
    zone_name = str(getattr(trigger.time_zone, "value", trigger.time_zone) or "UTC")
    zone = _zone(zone_name)
    local_now = (now or datetime.now(timezone.utc)).astimezone(zone).replace(tzinfo=None)
    start = local_now.replace(second=0, microsecond=0)
    if start < local_now:  # the current minute has begun: it cannot fire in it any more
        start += timedelta(minutes=1)
    starts_at = _local(trigger.start_time)
    ends_at = _local(trigger.end_time)
    if starts_at and starts_at > start:
        start = starts_at
    expression = getattr(trigger, "expression", None)
    try:
        found = (
            _cron_next(expression, start)
            if expression
            else _recurrence_next(trigger, start, starts_at or start)
        )
    except (ValueError, IndexError):
        return None
    if found is None or (ends_at and found > ends_at):
        return None
    return found.replace(tzinfo=zone)


def _local(value: Any) -> datetime | None:
    if not value:
        return None
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return parsed.replace(tzinfo=None)
