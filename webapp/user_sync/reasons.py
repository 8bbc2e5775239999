"""The words admins read for each outcome and reason (one place, so pages and tests agree)."""
from webapp.user_sync import models as m

SKIP_REASONS = {
    m.GUEST: "Guest account (Microsoft's account type is Guest): guests are skipped unless "
             "Include guests is on in Sync settings.",
    m.INVITED: "Invited outside account: Microsoft gives no account type, and the #EXT# in the "
               "sign-in name marks an account invited from another organisation, so it counts as "
               "a guest (skipped unless Include guests is on in Sync settings). An #EXT# account "
               "whose type is Member is synced like staff.",
    m.LIMITED_INFO: "Microsoft shared only this person's ID with rostersync, not their name or "
                    "email: the connected account may not read other people in your tenant. "
                    "Nobody is added from such an answer, and people already synced keep their "
                    "details. Ask your Microsoft 365 administrator to let the connected account "
                    "read users (for example the Directory Readers role).",
    m.DISABLED: "Account disabled in Microsoft.",
    m.NO_EMAIL: "No email address in Microsoft: no mailbox (Microsoft's mail is empty), and the "
                "sign-in name cannot take its place (an invited account's #EXT# name, or none), "
                "so there is nothing to send training to.",
    m.DUPLICATE_EMAIL: "Duplicate email: another Microsoft user in the group has the same "
                       "address, so both are skipped until each has their own.",
    m.EXCLUDED: "Excluded from sync by an admin.",
    m.EMAIL_TAKEN: "Email already used by another account on the platform.",
    m.LEFT_GROUP: "Left the group.",
    m.EXCLUDED_GROUP: "In a group whose members are never synced.",
    m.PROTECTED_ADMIN: "Would be suspended, but is an admin of this organisation, so kept.",
    m.PROTECTED_CONNECTOR: "Would be suspended, but is the account that connected Microsoft, so "
                           "kept.",
    m.UNDONE: "Added by a sync that an admin undid: suspended, not deleted.",
    m.ERASED: "Erased by the leaver retention rule since, so the undo cannot bring them back.",
    m.INCLUDED_SINCE: "Excluded from sync when that sync ran and included again by an admin "
                      "since, so the undo left them as they are.",
    m.REMOVED_SINCE: "Removed from this school by an admin since, so the undo left them as they "
                     "are.",
    m.REMOVED_BY_ADMIN: "Removed from this school by an admin. The next sync adds them back "
                        "while they are in the chosen groups: exclude them from sync to keep "
                        "them out.",
    m.LINKED_MEMBER: "Already a member of this school (added by an admin or invited): linked to "
                     "that membership.",
    m.LINKED_SUSPENDED: "Already in this school with their access suspended: linked to that "
                        "membership, and given access again.",
    m.EMAIL_KEPT: "Their earlier email is now used by another account on the platform, so the "
                  "undo left their email as it is.",
    m.MEMBER_BEFORE: "A member of this school before that sync (added by an admin or invited), "
                     "so the undo left their access as it was.",
}
ACTION_LABELS = {m.ADD: "Added", m.UPDATE: "Updated", m.REINSTATE: "Reinstated",
                 m.SUSPEND: "Suspended", m.SKIP: "Skipped", m.KEEP: "Kept"}
PREVIEW_ACTION_LABELS = {m.ADD: "Would add", m.UPDATE: "Would update",
                         m.REINSTATE: "Would reinstate", m.SUSPEND: "Would suspend",
                         m.SKIP: "Would skip", m.KEEP: "Would keep"}
FIELD_LABELS = {"email": "email", "display_name": "name", "job_title": "job title",
                "department": "department"}


OUTCOMES_OF_KIND = {
    m.KIND_PERSON: {m.RUNNING: "Syncing one person", m.COMPLETE: "Person synced",
                    m.FAILED: "Sync this person now failed"},
    m.KIND_UNDO: {m.RUNNING: "Undoing the sync", m.COMPLETE: "Sync undone",
                  m.FAILED: "Undo failed"},
}
TITLES = {m.KIND_SYNC: "Sync", m.KIND_PREVIEW: "Preview of changes",
          m.KIND_PERSON: "Sync this person now", m.KIND_UNDO: "Undo of a sync"}


def run_title(run):
    return TITLES.get(run.kind, "Sync")


def outcome(run):
    """The one phrase that says how a run ended (or where it is)."""
    if run is None:
        return "Never synced"
    if run.status in OUTCOMES_OF_KIND.get(run.kind, {}):
        return OUTCOMES_OF_KIND[run.kind][run.status]
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


def reason_text(code, detail=None):
    """detail: what the run recorded with it: the excluded group's name (EXCLUDED_GROUP), or
    Microsoft's id of a person it named by id alone (LIMITED_INFO)."""
    if code == m.EXCLUDED_GROUP and detail:
        return f"In “{detail}”, a group whose members are never synced."
    if code == m.LIMITED_INFO and detail:
        return f"{SKIP_REASONS[code]} (Microsoft ID {detail}.)"
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
