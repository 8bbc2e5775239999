"""The words admins read for each outcome and reason (one place, so pages and tests agree)."""
from webapp.user_sync import models as m

SKIP_REASONS = {
    m.GUEST: "Guest account: guests are skipped unless Include guests is on in Sync settings.",
    m.DISABLED: "Account disabled in Microsoft.",
    m.NO_EMAIL: "No email address in Microsoft (neither a mailbox nor a sign-in name), so "
                "there is nothing to sign in with.",
    m.DUPLICATE_EMAIL: "Duplicate email: another Microsoft user in the group has the same "
                       "address, so both are skipped until each has their own.",
    m.EXCLUDED: "Excluded from sync by an admin.",
    m.EMAIL_TAKEN: "Email already used by another account on the platform.",
    m.LEFT_GROUP: "Left the group.",
    m.EXCLUDED_GROUP: "In a group whose members are never synced.",
    m.PROTECTED_ADMIN: "Would be suspended, but is an admin of this organisation, so kept.",
    m.PROTECTED_CONNECTOR: "Would be suspended, but is the account that connected Microsoft, so "
                           "kept.",
}
ACTION_LABELS = {m.ADD: "Added", m.UPDATE: "Updated", m.REINSTATE: "Reinstated",
                 m.SUSPEND: "Suspended", m.SKIP: "Skipped", m.KEEP: "Kept"}
PREVIEW_ACTION_LABELS = {m.ADD: "Would add", m.UPDATE: "Would update",
                         m.REINSTATE: "Would reinstate", m.SUSPEND: "Would suspend",
                         m.SKIP: "Would skip", m.KEEP: "Would keep"}
FIELD_LABELS = {"email": "email", "display_name": "name", "job_title": "job title",
                "department": "department"}


def outcome(run):
    """The one phrase that says how a run ended (or where it is)."""
    if run is None:
        return "Never synced"
    preview = run.kind == m.KIND_PREVIEW
    return {
        m.QUEUED: "Waiting for a worker",
        m.RUNNING: "Previewing" if preview else "Syncing",
        m.COMPLETE: "Preview ready" if preview else "Sync complete",
        m.FAILED: "Preview failed" if preview else "Sync failed",
        m.NEEDS_REVIEW: "Needs review",
        m.CANCELLED: "Cancelled",
    }.get(run.status, run.status)


def activity(run):
    """What an active run is doing, said after its outcome (so never the same words twice)."""
    if run.status == m.QUEUED:
        return "the sync starts as soon as a background worker is free."
    return run.phase


def progress_label(run):
    """The words beside an active run's progress bar."""
    if run.status == m.QUEUED:
        return "Not started yet"
    if run.total:
        return f"Fetched {run.fetched or 0:,} of {run.total:,} people"
    if run.fetched:
        return f"Fetched {run.fetched:,} people so far"
    return "Asking Microsoft for the group's members"


def reason_text(code, group=None):
    """group: the excluded group's name, recorded with an EXCLUDED_GROUP skip or suspension."""
    if code == m.EXCLUDED_GROUP and group:
        return f"In “{group}”, a group whose members are never synced."
    return SKIP_REASONS.get(code, code or "")


def status_reason(person):
    """Why a synced person is suspended or excluded, as recorded when the sync decided it
    ("" for someone active): the people table and the CSV show it."""
    if person.status == "suspended":
        return reason_text(person.suspended_reason, person.suspended_group)
    return reason_text(m.EXCLUDED) if person.excluded else ""


def action_label(action, preview=False):
    return (PREVIEW_ACTION_LABELS if preview else ACTION_LABELS).get(action, action)


def changed_fields_text(detail):
    return ", ".join(FIELD_LABELS.get(name, name) for name in (detail or "").split(",") if name)
