"""Undo this sync: put everyone a run changed back as they were just before it.

The undo is a run of its own (kind "undo") holding the school's one-sync slot, so two undos, or
an undo and a sync, never overlap; a quick job does it. Inside ONE transaction it re-checks that
the run may still be undone, plans it again (engine.undo_plan), records its own before values,
writes memberships, accounts and people, records its change log, cancels a review waiting on
the old data, pauses automatic sync (otherwise the next tick would redo the same changes),
writes the audit entry and the outcome. A failure anywhere rolls all of it back.
"""

from sqlalchemy import bindparam, update

from webapp import audit
from webapp.audit import actions
from webapp.clock import utcnow
from webapp.dates import format_moment
from webapp.errors import ServiceError
from webapp.extensions import db
from webapp.orgs.models import Organisation
from webapp.schedule.pause import pause_for_undo
from webapp.user_sync import models as m
from webapp.user_sync.engine import lifecycle
from webapp.user_sync.engine import undo_plan as plans
from webapp.user_sync.engine.prior import USER_COLUMNS, record_prior_values
from webapp.user_sync.engine.queries import get_run
from webapp.user_sync.engine.queued_runs import run_row
from webapp.user_sync.engine.quick_runs import refuse_while_busy, start_quick_run
from webapp.user_sync.engine.run import SyncFailed, run_to_outcome
from webapp.user_sync.engine.store import MEMBERSHIPS, PEOPLE, USERS, bulk_insert, set_status
from webapp.user_sync.people import forget_status_counts

JOB = "jobs.sync.run_undo_job"
UNDOING = "Undoing the changes"
RESTORED_COLUMNS = ("email", "email_normalised", "display_name", "job_title", "department",
                    "status", "in_group", "last_seen_at", "synced_via", "suspended_reason",
                    "suspended_group", "suspended_at")


def start_undo(organisation, run_id, user):
    """Queues the undo of run_id; returns the undo run. ServiceError says why not (nothing queued)."""
    target = get_run(organisation, run_id)
    refused = plans.refusal(target)
    if refused:
        raise ServiceError(f"{refused} Nothing was changed.")
    refuse_while_busy(organisation.id)
    group_columns = {"group_id": target.group_id, "group_name": target.group_name,
                     "selection": target.selection}
    return start_quick_run(m.SyncRun(**run_row(organisation.id, group_columns, m.KIND_UNDO,
                                               started_by=user, undoes_run_id=target.id)),
                           JOB, "the undo")


def run_undo(run_id):
    """The quick job's work; never raises for an undo problem, it records it on the run."""
    return run_to_outcome(run_id, _undo)


def _undo(undo):
    target = db.session.get(m.SyncRun, undo.undoes_run_id)
    if target is None:
        raise SyncFailed("The sync to undo no longer exists.")
    lifecycle.report_progress(undo.id, UNDOING)
    refused = plans.refusal(target)
    if refused:
        raise SyncFailed(refused)
    now = utcnow()
    # A review computed from the data being undone would redo it if applied: replaced. The
    # review and the schedule before the run's own row, which holds the school's slot: the
    # order Sync now takes them in (lifecycle.queue_manual_syncs), or each could wait for the
    # other.
    review_replaced = bool(lifecycle.replace_waiting_reviews({
        undo.organisation_id: lifecycle.replaced_reason("the undo of an earlier sync", undo.id)}))
    paused = pause_for_undo(undo.organisation_id, undo.id, now)
    if not lifecycle.claim_for_apply(undo.id):
        db.session.rollback()
        return
    plan = plans.plan_undo(target)
    write_undo(undo, plan, now)
    bulk_insert(m.SyncChange.__table__, change_rows(undo.id, plan))
    words = outcome_words(undo, target, plan, paused, review_replaced)
    audit.record(actions.SYNC_UNDONE, undo.organisation_id, actor=undo.started_by,
                 before={"run": target.id, **_run_counts(target)},
                 after={"undo_run": undo.id, **plan.counts(), "automatic_sync_paused": paused,
                        **({"review_cancelled": True} if review_replaced else {})})
    if lifecycle.finish_run(undo.id, m.COMPLETE, reason=words, counts=_undo_counts(plan)):
        forget_status_counts(undo.organisation_id)


def write_undo(undo, plan, now):
    """The people writes, memberships first (the order every sync writes in)."""
    writes = [e for e in plan.entries if e.category in plans.WRITES]
    record_prior_values(undo.id, undo.organisation_id, {e.person_id for e in writes})
    restoring = [e for e in writes if e.prior is not None and e.category != plans.SUSPEND_ADDED]
    added = [e for e in writes if e.category == plans.SUSPEND_ADDED]
    _restore_memberships(restoring, now)
    set_status(MEMBERSHIPS, [e.current["membership_id"] for e in added
                             if e.current["membership_id"]], "suspended", now)
    _restore_accounts(restoring)
    _restore_people(restoring, now)
    set_status(PEOPLE, [e.person_id for e in added], "suspended", now,
               {"suspended_reason": m.UNDONE, "suspended_at": now})


def _restore_memberships(entries, now):
    changed = [{"_id": e.prior.membership_id, "_status": e.prior.membership_status}
               for e in entries if e.prior.membership_id and e.prior.membership_status
               and e.prior.membership_status != e.current["membership_status"]]
    if changed:
        db.session.execute(update(MEMBERSHIPS).where(MEMBERSHIPS.c.id == bindparam("_id"))
                           .values(status=bindparam("_status"), updated_at=now), changed)


def _restore_accounts(entries):
    """The platform account's name, email, title and department, where the run changed them.
    In user id order, as every sync writes accounts (no deadlock with a school sharing staff)."""
    changed = sorted((e for e in entries if e.prior.user_id and any(
        _restored(e, c, "user_") != e.current[f"user_{c}"] for c in USER_COLUMNS)),
        key=lambda e: e.prior.user_id)
    if changed:
        db.session.execute(
            update(USERS).where(USERS.c.id == bindparam("_id"))
            .values(**{c: bindparam(f"_{c}") for c in USER_COLUMNS}),
            [{"_id": e.prior.user_id, **{f"_{c}": _restored(e, c, "user_")
                                         for c in USER_COLUMNS}} for e in changed])


def _restore_people(entries, now):
    if entries:
        values = {c: bindparam(f"_{c}") for c in RESTORED_COLUMNS}
        db.session.execute(
            update(PEOPLE).where(PEOPLE.c.id == bindparam("_id"))
            .values(sort_name=bindparam("_sort"), **values),
            [{"_id": e.person_id,
              "_sort": m.sort_name(e.prior.display_name, _restored(e, "email")),
              **{f"_{c}": _restored(e, c) for c in RESTORED_COLUMNS},
              **_suspended_from(e, now)} for e in entries])


def _suspended_from(entry, now):
    """Someone the undo suspends again is a leaver from now: their suspension before the run
    (maybe months ago) made the retention rule erase them the night after the undo."""
    return {"_suspended_at": now} if entry.category == plans.SUSPEND_AGAIN else {}


def _restored(entry, column, prefix=""):
    """The value the undo writes: the one from before the run, but for an email another account
    has taken since, which stays as it is now (undo_plan's email_kept)."""
    if entry.email_kept and column in ("email", "email_normalised"):
        return entry.current[f"{prefix}{column}"]
    return getattr(entry.prior, f"{prefix}{column}")


ACTION_OF = {plans.REINSTATE: m.REINSTATE, plans.SUSPEND_AGAIN: m.SUSPEND,
             plans.SUSPEND_ADDED: m.SUSPEND, plans.RESTORE_DETAILS: m.UPDATE,
             plans.ERASED: m.SKIP, plans.EXCLUDED_SINCE: m.SKIP, plans.CHANGED_SINCE: m.SKIP,
             plans.EMAIL_TAKEN: m.SKIP, plans.KEPT: m.KEEP, plans.MEMBER_BEFORE: m.KEEP}


def change_rows(undo_id, plan):
    """The undo's own change log: what it did to each listed person (in sync_changes' shape)."""
    rows = []
    for entry in plan.entries:
        if entry.category not in ACTION_OF:
            continue
        source = entry.prior
        rows.append({"run_id": undo_id, "action": ACTION_OF[entry.category],
                     "reason": _reason(entry), "synced_person_id": entry.person_id,
                     "microsoft_id": (entry.current or {}).get("microsoft_id") or "",
                     "email": (_restored(entry, "email") if source is not None else None)
                     or entry.email,
                     "display_name": getattr(source, "display_name", None) or entry.name,
                     "job_title": _field(entry, "job_title"),
                     "department": _field(entry, "department"),
                     "detail": _detail(entry)})
    return rows


def _detail(entry):
    """What the row's action and reason read with (reasons.reason_text): the fields given back,
    or, for someone suspended again, the excluded group that keeps them out."""
    if entry.category == plans.SUSPEND_AGAIN:
        return entry.prior.suspended_group
    return ",".join(entry.details) or None


def _field(entry, name):
    if entry.prior is not None:
        return getattr(entry.prior, name)
    return (entry.current or {}).get(name)


def _reason(entry):
    if entry.email_kept:
        return m.EMAIL_KEPT
    return {plans.SUSPEND_ADDED: m.UNDONE, plans.ERASED: m.ERASED,
            plans.EXCLUDED_SINCE: m.EXCLUDED, plans.CHANGED_SINCE: entry.reason,
            plans.SUSPEND_AGAIN: getattr(entry.prior, "suspended_reason", None),
            plans.KEPT: entry.reason, plans.MEMBER_BEFORE: entry.reason}.get(entry.category)


def _undo_counts(plan):
    counts = plan.counts()
    return {"added": 0, "updated": counts[plans.RESTORE_DETAILS],
            "suspended": counts[plans.SUSPEND_AGAIN] + counts[plans.SUSPEND_ADDED],
            "reinstated": counts[plans.REINSTATE],
            "skipped": counts[plans.ERASED] + counts[plans.EXCLUDED_SINCE]
            + counts[plans.CHANGED_SINCE] + counts[plans.EMAIL_TAKEN],
            "unchanged": counts[plans.QUIET]}


def _run_counts(run):
    return {name: getattr(run, name) for name in ("added", "updated", "suspended", "reinstated")}


def title(undo, organisation):
    """ "Undo of the sync of 3 Dec 2026, 14:38 GMT, by Jo Admin" (history and the run page)."""
    target = undo.undone_run
    when = format_moment(target.created_at, organisation) if target is not None else "a sync"
    who = undo.started_by.name_or_email if undo.started_by else "a deleted account"
    return f"Undo of the sync of {when}, by {who}"


def outcome_words(undo, target, plan, paused, review_replaced=False):
    organisation = db.session.get(Organisation, undo.organisation_id)
    counts = plan.counts()
    done = [(counts[plans.REINSTATE], "reinstated"),
            (counts[plans.SUSPEND_AGAIN], "suspended again"),
            (counts[plans.SUSPEND_ADDED], "added by that sync and now suspended"),
            (counts[plans.RESTORE_DETAILS], "restored to their earlier name or email")]
    text = f"{title(undo, organisation)}: " + ", ".join(f"{n:,} {what}" for n, what in done) + "."
    if counts[plans.ERASED]:
        text += (f" {counts[plans.ERASED]:,} could not be restored: erased by the leaver "
                 "retention rule since.")
    if counts[plans.EXCLUDED_SINCE]:
        text += f" {counts[plans.EXCLUDED_SINCE]:,} excluded since were left as they are."
    if counts[plans.CHANGED_SINCE]:
        text += (f" {counts[plans.CHANGED_SINCE]:,} included in sync again, or removed from this "
                 "school, by an admin since were left as they are.")
    kept_emails = sum(1 for e in plan.entries if e.email_kept)
    if kept_emails:
        text += (f" {kept_emails:,} kept the email they have now: their earlier one is now used "
                 "by another account on the platform.")
    if counts[plans.KEPT]:
        text += (f" {counts[plans.KEPT]:,} kept active: admins and the account that connected "
                 "Microsoft are never suspended.")
    if counts[plans.MEMBER_BEFORE]:
        text += (f" {counts[plans.MEMBER_BEFORE]:,} left as they are: members of this school "
                 "before that sync (added by an admin or invited), so their access was not taken "
                 "away.")
    if review_replaced:
        text += (" The sync that was waiting for review was cancelled: it was worked out from "
                 "the data this undo changed. Press Sync now to check Microsoft again.")
    if paused:
        text += (" Automatic sync is paused for this school until an admin turns it back on "
                 "(Save schedule) or presses Sync now.")
    return text
