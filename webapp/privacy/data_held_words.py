"""The data-held HTML file in words a person reads: headings for each kind of record, field
names as words, times in the school's zone in the product's one format (webapp.dates). The JSON
file keeps the column names and ISO times, for machines. Fields not in FIELD_WORDS read as
webapp.field_words says (as on the Activity page)."""
from webapp import field_words

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
               "microsoft_id": "Microsoft ID", "email_normalised": "Email (for matching)",
               "rq_job_id": "Job ID", "worker_pid": "Worker process",
               "password_set": "Has a password"}


def table_title(name):
    return TABLE_TITLES.get(name) or name.replace("_", " ").capitalize()


def field_label(key):
    return FIELD_WORDS.get(key) or field_words.label(key)


field_value = field_words.value_text
