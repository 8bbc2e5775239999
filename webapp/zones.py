"""The organisation's time zone (organisations.time_zone, default Europe/London)."""
from functools import lru_cache
from importlib import resources
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


# Offered first, so the card does not send every school the whole world (about 420 names):
# the zones of the UK, Ireland, the Crown Dependencies and Gibraltar, and UTC.
FIRST_ZONES = ("Europe/London", "Europe/Dublin", "Europe/Guernsey", "Europe/Isle_of_Man",
               "Europe/Jersey", "Europe/Gibraltar", "UTC")


@lru_cache(maxsize=1)
def choosable_zones():
    """The zones a school can pick: the names IANA's zone.tab gives the places of each country
    (read from the tzdata package, so a tzdata upgrade brings IANA's changes), plus UTC. That
    leaves out the links kept for old names (Asia/Calcutta, GB, US/Eastern) and the Etc/ offsets
    with their inverted signs."""
    listed = resources.files("tzdata.zoneinfo").joinpath("zone.tab").read_text("utf-8")
    names = {line.split("\t")[2] for line in listed.splitlines()
             if line.strip() and not line.startswith("#")}
    return tuple(sorted(names & available_timezones())) + ("UTC",)


def first_zones(chosen):
    """The short list: FIRST_ZONES, led by the school's own zone when it is another."""
    return FIRST_ZONES if chosen in FIRST_ZONES else (chosen,) + FIRST_ZONES
