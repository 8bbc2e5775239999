"""The organisation's time zone (organisations.time_zone, default Europe/London)."""
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from webapp.clock import as_utc

DEFAULT_TIME_ZONE = "Europe/London"


def organisation_zone(time_zone_name):
    try:
        return ZoneInfo(time_zone_name or DEFAULT_TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIME_ZONE)


def local_date(moment, time_zone_name):
    """The date at the school when `moment` (aware, or naive UTC from SQLite) happened."""
    return as_utc(moment).astimezone(organisation_zone(time_zone_name)).date()


@lru_cache(maxsize=1)
def choosable_zones():
    """The zones a school can pick: IANA's Area/Place names plus UTC (no aliases such as
    "GB" or "US/Eastern", no Etc/ offsets with their inverted signs)."""
    areas = ("Africa/", "America/", "Antarctica/", "Asia/", "Atlantic/", "Australia/",
             "Europe/", "Indian/", "Pacific/")
    return tuple(sorted(name for name in available_timezones() if name.startswith(areas))) + (
        "UTC",)
