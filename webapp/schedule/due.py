"""When an automatic sync is next due: pure functions of the choice, the time zone and a moment.

All moments are aware UTC datetimes. Daily times are local to the organisation's time zone, so
they follow daylight saving: a time in the missing spring hour runs once, shifted forward by
the gap (01:30 in Europe/London becomes 02:30 BST); a time in the repeated autumn hour runs
once, at its first occurrence (fold=0).
"""
import hashlib
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone

from webapp.schedule_words import DAILY, OFF, format_minute_of_day

INTERVAL_HOURS = {"1h": 1, "2h": 2, "4h": 4, "6h": 6, "12h": 12}
FREQUENCIES = (OFF, DAILY, "1h", "2h", "4h", "6h", "12h")
SPREAD_WINDOW = timedelta(minutes=30)
# After an automatic sync fails: retry after these delays, then wait for the regular slot.
RETRY_DELAYS = (timedelta(minutes=15), timedelta(hours=1), timedelta(hours=4))


def parse_time_of_day(text):
    """'HH:MM' (24-hour) to minutes after midnight; ValueError with the admin's words if not."""
    text = (text or "").strip()
    hours, sep, minutes = text.partition(":")
    if not (sep and text.isascii() and hours.isdigit() and minutes.isdigit() and len(minutes) == 2
            and 1 <= len(hours) <= 2):
        raise ValueError("Enter the time as HH:MM, for example 02:00.")
    hours, minutes = int(hours), int(minutes)
    if hours > 23 or minutes > 59:
        raise ValueError(f"{text} is not a time of day: use 00:00 to 23:59.")
    return hours * 60 + minutes


def spread_offset(organisation_id, frequency):
    """A fixed delay per organisation within the spread window, so schools that chose the same
    time start over up to 30 minutes instead of at once. Derived from a hash of the
    organisation id: the same school always gets the same offset, in every process."""
    window = SPREAD_WINDOW
    if frequency in INTERVAL_HOURS:
        window = min(window, timedelta(hours=INTERVAL_HOURS[frequency]) / 2)
    digest = hashlib.sha256(f"rostersync-schedule:{organisation_id}".encode()).digest()
    return timedelta(seconds=int.from_bytes(digest[:8], "big") % int(window.total_seconds()))


def next_slot(frequency, minute_of_day, zone, organisation_id, after):
    """The first due moment strictly after `after`, or None when automatic sync is off."""
    if frequency == DAILY:
        return _next_daily(minute_of_day, zone, spread_offset(organisation_id, DAILY), after)
    if frequency in INTERVAL_HOURS:
        return _next_interval(INTERVAL_HOURS[frequency], spread_offset(organisation_id, frequency),
                              after)
    return None


def _next_daily(minute_of_day, zone, offset, after):
    local_date = after.astimezone(zone).date()
    at = time(minute_of_day // 60, minute_of_day % 60)
    for days in range(-1, 3):  # yesterday's slot plus its offset may still be ahead
        local = datetime.combine(local_date + timedelta(days=days), at, tzinfo=zone)
        candidate = local.astimezone(timezone.utc) + offset
        if candidate > after:
            return candidate
    raise AssertionError("unreachable: a daily slot exists within three days")


def _next_interval(hours, offset, after):
    """Every N hours counted from midnight UTC (so daylight saving never stretches a gap)."""
    step = hours * 3600
    shifted = (after - offset).timestamp()
    slot = (int(shifted // step) + 1) * step
    return datetime.fromtimestamp(slot, timezone.utc) + offset


def after_failure(regular_next, finished_at, failures):
    """When to try again after `failures` automatic failures in a row (1 = the first)."""
    if 1 <= failures <= len(RETRY_DELAYS):
        retry = finished_at + RETRY_DELAYS[failures - 1]
        return min(retry, regular_next) if regular_next is not None else retry
    return regular_next


@dataclass(frozen=True)
class SlotNote:
    """Why a due moment is not the time the admin chose, for the card to say in words."""
    chosen: str           # the chosen time of day ("01:30") for Every day, else ""
    spread_minutes: int   # this school's whole minutes after the regular time (spread_offset)
    clock_change: str     # "" | SKIPPED (the chosen time does not exist that day: clocks go
                          # forward) | REPEATED (it happens twice: clocks go back; first one runs)
    day: object = None    # the local date of the slot
    shift_minutes: int = 0  # how far the clocks move that day (60 in Europe/London)


SKIPPED, REPEATED = "skipped", "repeated"


def slot_note(frequency, minute_of_day, zone, organisation_id, at):
    """The SlotNote of `at` if it is a regular slot of this choice, else None (a retry after a
    failure, or a slot of a choice since changed)."""
    if at is None:
        return None
    at = at.astimezone(timezone.utc)  # an ambiguous local time is never equal across zones
    if next_slot(frequency, minute_of_day, zone, organisation_id,
                               at - timedelta(seconds=1)) != at:
        return None
    offset = spread_offset(organisation_id, frequency)
    spread = int(offset.total_seconds()) // 60
    if frequency != DAILY:
        return SlotNote(chosen="", spread_minutes=spread, clock_change="")
    day = (at - offset).astimezone(zone).date()
    local = datetime.combine(day, time(minute_of_day // 60, minute_of_day % 60), tzinfo=zone)
    shift = abs(local.replace(fold=1).utcoffset() - local.utcoffset())
    return SlotNote(chosen=format_minute_of_day(minute_of_day), spread_minutes=spread,
                    clock_change=_clock_change(local), day=day,
                    shift_minutes=int(shift.total_seconds()) // 60)


def _clock_change(local):
    """SKIPPED if this wall-clock time does not exist in its zone, REPEATED if it exists twice."""
    round_trip = local.astimezone(timezone.utc).astimezone(local.tzinfo)
    if round_trip.replace(tzinfo=None) != local.replace(tzinfo=None):
        return SKIPPED
    if local.utcoffset() != local.replace(fold=1).utcoffset():
        return REPEATED
    return ""
