"""Stored field names and values in words a person reads: "suspended_at" -> "Suspended",
"run_id" -> "Run ID", True -> "Yes", an ISO time -> "2 Dec 2026, 14:05 GMT" in the school's zone.

The Activity page (audit.values) and the data-held file (privacy.data_held_words) each look in a
table of their own fields first and ask here for everything else, so a field both show reads
the same in both.
"""
from datetime import date, datetime

from webapp.dates import format_moment

# Fields whose words are not their name's, the same wherever they are shown.
SHARED_FIELDS = {"tenant_id": "Microsoft tenant", "object_id": "Microsoft object ID"}
WORDS = {"id": "ID", "ip": "IP", "microsoft": "Microsoft", "upn": "UPN", "rq": "RQ",
         "url": "URL"}
MOMENT_SUFFIXES = ("_at", "_until")


def label(key):
    """"suspended_at" -> "Suspended", "display_name" -> "Display name", "run_id" -> "Run ID"."""
    if key in SHARED_FIELDS:
        return SHARED_FIELDS[key]
    words = key.split("_")
    if words[-1] == "at" and len(words) > 1:
        words = words[:-1]
    text = " ".join(WORDS.get(word, word) for word in words)
    return text[:1].upper() + text[1:]


def value_text(key, value, organisation):
    """A value as a person reads it: "—" for nothing, Yes/No, times in the school's zone."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, str):
        moment = _moment(value)
        # A time kept with its offset reads as one whatever its field; a field named as a time
        # (suspended_at, valid_until) reads as one even without (SQLite keeps no offset).
        if moment and (moment.tzinfo or key.endswith(MOMENT_SUFFIXES)):
            return format_moment(moment, organisation)
        return value
    if isinstance(value, (datetime, date)):
        return format_moment(value, organisation)
    return str(value)


def _moment(text):
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None
