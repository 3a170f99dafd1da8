"""Time zones of Azure ML schedules: the service's own names, and IANA names turned into them.

Azure ML's schedule triggers take Windows-style zone names (``W. Europe Standard Time``), the
values of ``azure.ai.ml.constants.TimeZone``; most people know IANA names
(``Europe/Amsterdam``). The service's names are listed here, so reading azureml.yml never
imports the Azure SDK (about 2 s); a unit test keeps the list equal to the SDK's. IANA names
are converted with the CLDR mapping that ``tzlocal`` ships (``tzlocal.windows_tz``).
"""

from __future__ import annotations

import difflib
from datetime import datetime, timezone

# azure.ai.ml.constants.TimeZone values (azure-ai-ml 1.35.2), in the SDK's order.
SERVICE_TIME_ZONES: tuple[str, ...] = (
    "Dateline Standard Time",
    "UTC-11",
    "Aleutian Standard Time",
    "Hawaiian Standard Time",
    "Marquesas Standard Time",
    "Alaskan Standard Time",
    "UTC-09",
    "Pacific Standard Time (Mexico)",
    "UTC-08",
    "Pacific Standard Time",
    "US Mountain Standard Time",
    "Mountain Standard Time (Mexico)",
    "Mountain Standard Time",
    "Central America Standard Time",
    "Central Standard Time",
    "Easter Island Standard Time",
    "Central Standard Time (Mexico)",
    "Canada Central Standard Time",
    "SA Pacific Standard Time",
    "Eastern Standard Time (Mexico)",
    "Eastern Standard Time",
    "Haiti Standard Time",
    "Cuba Standard Time",
    "US Eastern Standard Time",
    "Paraguay Standard Time",
    "Atlantic Standard Time",
    "Venezuela Standard Time",
    "Central Brazilian Standard Time",
    "SA Western Standard Time",
    "Pacific SA Standard Time",
    "Turks And Caicos Standard Time",
    "Newfoundland Standard Time",
    "Tocantins Standard Time",
    "E. South America Standard Time",
    "SA Eastern Standard Time",
    "Argentina Standard Time",
    "Greenland Standard Time",
    "Montevideo Standard Time",
    "Saint Pierre Standard Time",
    "Bahia Standard Time",
    "UTC-02",
    "Mid-Atlantic Standard Time",
    "Azores Standard Time",
    "Cape Verde Standard Time",
    "UTC",
    "Morocco Standard Time",
    "GMT Standard Time",
    "Greenwich Standard Time",
    "W. Europe Standard Time",
    "Central Europe Standard Time",
    "Romance Standard Time",
    "Central European Standard Time",
    "W. Central Africa Standard Time",
    "Namibia Standard Time",
    "Jordan Standard Time",
    "GTB Standard Time",
    "Middle East Standard Time",
    "Egypt Standard Time",
    "E. Europe Standard Time",
    "Syria Standard Time",
    "West Bank Standard Time",
    "South Africa Standard Time",
    "FLE Standard Time",
    "Turkey Standard Time",
    "Israel Standard Time",
    "Kaliningrad Standard Time",
    "Libya Standard Time",
    "Arabic Standard Time",
    "Arab Standard Time",
    "Belarus Standard Time",
    "Russian Standard Time",
    "E. Africa Standard Time",
    "Iran Standard Time",
    "Arabian Standard Time",
    "Astrakhan Standard Time",
    "Azerbaijan Standard Time",
    "Russia Time Zone 3",
    "Mauritius Standard Time",
    "Georgian Standard Time",
    "Caucasus Standard Time",
    "Afghanistan Standard Time",
    "West Asia Standard Time",
    "Ekaterinburg Standard Time",
    "Pakistan Standard Time",
    "India Standard Time",
    "Sri Lanka Standard Time",
    "Nepal Standard Time",
    "Central Asia Standard Time",
    "Bangladesh Standard Time",
    "N. Central Asia Standard Time",
    "Myanmar Standard Time",
    "SE Asia Standard Time",
    "Altai Standard Time",
    "W. Mongolia Standard Time",
    "North Asia Standard Time",
    "Tomsk Standard Time",
    "China Standard Time",
    "North Asia East Standard Time",
    "Singapore Standard Time",
    "W. Australia Standard Time",
    "Taipei Standard Time",
    "Ulaanbaatar Standard Time",
    "North Korea Standard Time",
    "Aus Central W. Standard Time",
    "Transbaikal Standard Time",
    "Tokyo Standard Time",
    "Korea Standard Time",
    "Yakutsk Standard Time",
    "Cen. Australia Standard Time",
    "AUS Central Standard Time",
    "E. Australia Standard Time",
    "AUS Eastern Standard Time",
    "West Pacific Standard Time",
    "Tasmania Standard Time",
    "Vladivostok Standard Time",
    "Lord Howe Standard Time",
    "Bougainville Standard Time",
    "Russia Time Zone 10",
    "Magadan Standard Time",
    "Norfolk Standard Time",
    "Sakhalin Standard Time",
    "Central Pacific Standard Time",
    "Russia Time Zone 11",
    "New Zealand Standard Time",
    "UTC+12",
    "Fiji Standard Time",
    "Kamchatka Standard Time",
    "Chatham Islands Standard Time",
    "Tonga Standard Time",
    "Samoa Standard Time",
    "Line Islands Standard Time",
)
_BY_LOWER = {name.lower(): name for name in SERVICE_TIME_ZONES}
_SERVICE = frozenset(SERVICE_TIME_ZONES)


def _iana_to_windows() -> dict[str, str]:
    from tzlocal.windows_tz import tz_win

    return dict(tz_win)


def service_time_zone(name: str) -> str:
    """The Azure ML name of time zone ``name`` (a service name or an IANA name).

    Raises ValueError saying why, with close matches, for a name neither list knows, and for
    an IANA zone whose Windows zone Azure ML does not take (with zones of the same offset).
    """
    exact = _BY_LOWER.get(name.strip().lower())
    if exact:
        return exact
    iana = _iana_to_windows()
    windows = iana.get(name.strip())
    if windows is None:
        close = difflib.get_close_matches(name, [*SERVICE_TIME_ZONES, *iana], n=5, cutoff=0.6)
        hint = f"; close matches: {', '.join(close)}" if close else ""
        raise ValueError(
            f"unknown time zone '{name}': use an IANA name (Europe/Amsterdam) or a name Azure "
            f"ML takes (UTC, W. Europe Standard Time){hint}"
        )
    if windows in _SERVICE:
        return windows
    same = same_offset_zones(name)
    hint = f"; zones with the same UTC offset today: {', '.join(same)}" if same else ""
    raise ValueError(
        f"time zone '{name}' is Windows zone '{windows}', which Azure ML schedules do not "
        f"take{hint}"
    )


def same_offset_zones(iana_name: str, limit: int = 5) -> list[str]:
    """Service zones whose UTC offset now equals ``iana_name``'s (for a helpful refusal)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from tzlocal.windows_tz import win_tz

    now = datetime.now(timezone.utc)
    try:
        wanted = now.astimezone(ZoneInfo(iana_name)).utcoffset()
    except (ZoneInfoNotFoundError, ValueError):
        return []
    found = []
    for service in SERVICE_TIME_ZONES:
        zone = win_tz.get(service)
        try:
            if zone and now.astimezone(ZoneInfo(zone)).utcoffset() == wanted:
                found.append(service)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return found[:limit]
