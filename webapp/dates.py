"""Dates and times as an organisation reads them: one format everywhere, in its time zone, with
the zone named ("2 Dec 2026, 14:05 GMT", "2 Jul 2026, 15:05 BST"). Everything is stored in UTC.

Pages use the `when` template filter (the organisation of the page); emails, jobs and CSV files
call format_moment / iso_timestamp with the organisation they are about.
"""
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app, g

from webapp.clock import as_utc
from webapp.config import ConfigError
from webapp.zones import organisation_zone


def zone_for(organisation):
    """The time zone an organisation's dates are shown in: the one place that decides it (its own
    time_zone; pages without an organisation use the platform's DEFAULT_TIME_ZONE)."""
    name = organisation.time_zone if organisation is not None else None
    name = name or current_app.config["DEFAULT_TIME_ZONE"]
    return organisation_zone(name)


def check_time_zone(name):
    """Start-up check of DEFAULT_TIME_ZONE, naming the variable."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"DEFAULT_TIME_ZONE must be an IANA time zone such as Europe/London, "
                          f"not {name!r}.") from None


def local_time(moment, organisation):
    return as_utc(moment).astimezone(zone_for(organisation))


def zone_label(local):
    """GMT, BST, CET...; zones with no abbreviation in the database name themselves "+04"."""
    name = local.tzname() or ""
    return f"UTC{name}" if name[:1] in "+-" else name


def format_moment(moment, organisation):
    """"2 Dec 2026, 14:05 GMT" for a datetime; "2 Dec 2026" for a date; "" for None."""
    if moment is None:
        return ""
    if not isinstance(moment, datetime):
        return f"{moment.day} {moment:%b %Y}" if isinstance(moment, date) else str(moment)
    local = local_time(moment, organisation)
    return f"{local.day} {local:%b %Y, %H:%M} {zone_label(local)}"


def iso_timestamp(moment, organisation):
    """ISO 8601 with the offset, in the organisation's zone: 2026-07-02T15:05:00+01:00."""
    return local_time(moment, organisation).isoformat(timespec="seconds") if moment else ""


def when(moment):
    """Template filter: a moment in the time zone of the page's organisation."""
    return format_moment(moment, g.get("organisation"))


def when_in(moment, organisation):
    """Template filter: a moment in the time zone of the school a row is about (the Schools
    page lists many schools, each in its own zone)."""
    return format_moment(moment, organisation)


def init_dates(app):
    check_time_zone(app.config["DEFAULT_TIME_ZONE"])
    app.add_template_filter(when, "when")
    app.add_template_filter(when_in, "when_in")
