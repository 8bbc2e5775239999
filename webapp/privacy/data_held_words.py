"""The data-held HTML file in words a person reads: headings for each kind of record, field
names as words, times in the school's zone in the product's one format (webapp.dates). The JSON
file keeps the column names and ISO times, for machines."""
from datetime import date, datetime

from webapp.dates import format_moment

TABLE_TITLES = {
    "users": "Their account",
    "memberships": "Their membership of this school",
    "synced_people": "What the sync holds about them (from Microsoft)",
    "sync_changes": "Sync history entries about them",
    "sync_prior_values": "Their earlier details, kept for Undo this sync",
    "audit_entries": "Activity log entries about them",
    "sync_runs": "Syncs they started or reviewed",
    "connect_attempts": "Times they connected this school to Microsoft",
    "group_choices": "Groups they chose to sync or exclude",
    "account_sessions": "Their sign-ins",
    "microsoft_sign_in_links": "Their Sign in with Microsoft links",
    "one_time_tokens": "Links emailed to them (invitations, password resets)",
}
FIELD_WORDS = {"id": "Record number", "upn": "Sign-in name (UPN)", "ip": "IP address",
               "microsoft_id": "Microsoft ID", "object_id": "Microsoft object ID",
               "tenant_id": "Microsoft tenant ID", "email_normalised": "Email (for matching)",
               "rq_job_id": "Job ID", "worker_pid": "Worker process",
               "password_set": "Has a password"}
WORDS = {"id": "ID", "ip": "IP", "microsoft": "Microsoft", "upn": "UPN", "rq": "RQ",
         "url": "URL"}
MOMENT_SUFFIXES = ("_at", "_until")


def table_title(name):
    return TABLE_TITLES.get(name) or name.replace("_", " ").capitalize()


def field_label(key):
    """"suspended_at" -> "Suspended", "display_name" -> "Display name", "run_id" -> "Run ID"."""
    if key in FIELD_WORDS:
        return FIELD_WORDS[key]
    words = key.split("_")
    if words[-1] == "at" and len(words) > 1:
        words = words[:-1]
    words = [WORDS.get(word, word) for word in words]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def field_value(key, value, organisation):
    """A value as a person reads it; times in the school's zone ("2 Dec 2026, 14:05 GMT")."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, str) and key.endswith(MOMENT_SUFFIXES):
        moment = _moment(value)
        return format_moment(moment, organisation) if moment else value
    if isinstance(value, (datetime, date)):
        return format_moment(value, organisation)
    return value


def _moment(text):
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None
