"""The organisation's time zone (organisations.time_zone, default Europe/London)."""
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIME_ZONE = "Europe/London"


def organisation_zone(time_zone_name):
    try:
        return ZoneInfo(time_zone_name or DEFAULT_TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIME_ZONE)
