"""The Activity page's filter (action, From and To), read from the address and checked.

The page and its CSV export read the same filter, so the export holds what the page shows. A
date that cannot be read, or lies outside the years the log can hold, is answered with a message
next to its field and no entries, never guessed at or dropped.
"""
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from webapp.audit import actions

FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)
ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # what a date field sends
DATE_FIELDS = (("from", "From", "start"), ("to", "To", "end"))


@dataclass
class ActivityFilter:
    action: str = ""
    day_from: date = None
    day_to: date = None
    typed: dict = field(default_factory=dict)   # what was sent, shown again in the form
    errors: dict = field(default_factory=dict)  # {"from" | "to": message for that field}

    def query(self, zone):
        """The keyword arguments of audit.service's readers: From and To are whole days in the
        school's time zone (the zone every time on the page is shown in)."""
        return {"action": self.action,
                "since": _start_of(self.day_from, zone) if self.day_from else None,
                "until": _start_of(self.day_to + timedelta(days=1), zone) if self.day_to else None}

    def args(self):
        """The filter as query-string values for links (pages) and the export's audit entry."""
        return {"action": self.action or None,
                "from": self.day_from.isoformat() if self.day_from else None,
                "to": self.day_to.isoformat() if self.day_to else None}


def activity_filter(args):
    action = args.get("action", "")
    found = ActivityFilter(action=action if action in actions.LABELS else "")
    for name, label, end in DATE_FIELDS:
        typed = (args.get(name) or "").strip()
        found.typed[name] = typed
        day, error = read_day(typed, label, end)
        if error:
            found.errors[name] = error
        setattr(found, "day_from" if name == "from" else "day_to", day)
    if found.day_from and found.day_to and found.day_from > found.day_to:
        found.errors["to"] = (f"To ({found.day_to:%-d %b %Y}) is before From "
                              f"({found.day_from:%-d %b %Y}): choose a To date on or after From.")
    return found


def _start_of(day, zone):
    """Midnight at the start of `day` in `zone`, in UTC (SQLite compares the stored UTC wall
    clock, so the moment must be UTC, not merely aware)."""
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(timezone.utc)


def read_day(typed, label, end):
    """(the date, None) for an ISO date within range or an empty field; else (None, message)."""
    if not typed:
        return None, None
    try:
        day = date.fromisoformat(typed) if ISO_DAY.fullmatch(typed) else None
    except ValueError:  # 2026-02-30
        day = None
    if day is None:
        return None, f"Enter {label} as a date, for example 2026-09-01, or leave it empty."
    if not FIRST_DAY <= day <= LAST_DAY:
        return None, (f"Enter a date from {FIRST_DAY:%-d %b %Y} to {LAST_DAY:%-d %b %Y}, or "
                      f"leave {label} empty for no {end} date.")
    return day, None
