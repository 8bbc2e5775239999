"""What the Activity page shows of an entry's Before and After: words, not stored field names
("Time of day 01:30", not "minute_of_day 90"), and of a settings change only what changed.

The stored entry keeps the field names (the CSV export and the erasure service read them);
this module is the one place that turns them into what an admin reads: its own fields here,
the rest as webapp.field_words reads them (as the data-held file does).
"""
import json
from dataclasses import dataclass

from webapp import field_words
from webapp.audit import actions
from webapp.schedule_words import FREQUENCY_LABELS, format_minute_of_day
from webapp.words import counted


def _days(value):
    return "Never" if value in (None, "never") else counted(value, "day")


def _time_of_day(value):
    return "—" if value is None else format_minute_of_day(value)


def _frequency(code):
    return FREQUENCY_LABELS.get(code, code)


def _percent(value):
    return f"{value}%"


def _action(value):
    return actions.label(value) if value else "Every action"


# field name: (its words, how its value reads); fields not listed read as webapp.field_words says.
FIELDS = {
    "frequency": ("Automatic sync", _frequency),
    "minute_of_day": ("Time of day", _time_of_day),
    "time_zone": ("Time zone", None),
    "erase_leavers_after_days": ("Erase leavers after", _days),
    "include_guests": ("Include guests", None),
    "removal_threshold_percent": ("Review removals above", _percent),
    "removal_threshold_minimum": ("…but never below (people)", None),
    "synced_groups": ("Groups synced", None),
    "excluded_groups": ("Groups excluded", None),
    "admins_must_use_two_step": ("Admins must use two-step verification", None),
    "run": ("Sync run", None),
    "undo_run": ("Undo run", None),
    "paused_by_run": ("Paused by sync run", None),
    "action": ("Action", _action),
    "from": ("From", None),
    "to": ("To", None),
}


# Settings saves: their Before and After show only the fields that changed.
SETTINGS_CHANGES = (actions.GROUP_CHANGED, actions.SYNC_SETTINGS_CHANGED, actions.SCHEDULE_CHANGED,
                    actions.RETENTION_CHANGED, actions.TWO_STEP_POLICY_CHANGED,
                    actions.ROLE_CHANGED)


@dataclass
class ShownValue:
    label: str
    text: str


def changes_nothing(action, before, after):
    """A settings save whose After equals its Before (30 → 30) is not an event to log."""
    return action in SETTINGS_CHANGES and before is not None and before == after


def shown_values(entry, organisation):
    """The entry's (before, after) as lists of ShownValue."""
    action, before, after = entry.action, _decoded(entry.before), _decoded(entry.after)
    if action in SETTINGS_CHANGES and before and after:
        changed = {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
        before = {key: value for key, value in before.items() if key in changed}
        after = {key: value for key, value in after.items() if key in changed}
    return _shown(before, organisation), _shown(after, organisation)


def _decoded(text):
    return json.loads(text) if text else None


def _shown(values, organisation):
    return [ShownValue(_label(key), _text(key, value, organisation))
            for key, value in (values or {}).items()]


def _label(key):
    known = FIELDS.get(key)
    return known[0] if known else field_words.label(key)


def _text(key, value, organisation):
    known = FIELDS.get(key)
    if known and known[1]:
        return known[1](value)
    return field_words.value_text(key, value, organisation)
