"""Erasing leavers on time: people suspended by the sync for longer than the school's retention.

Per organisation, in ONE transaction (so an interrupted erasure leaves everything as it was and
the next run does it all), and idempotent (an erased person is gone, so a re-run finds nothing):
- their synced_people row is deleted;
- their personal fields in the sync history (email, name, job title, department, Microsoft id),
  and in the earlier values runs recorded for Undo this sync, become ERASED or empty; the
  history rows stay, so every run's counts still add up (and an undo says who it cannot restore);
- their membership of this organisation is deleted; the platform account too if the sync
  created it and nothing else uses it (no other organisation, no admin record points at it),
  with its sessions, one-time links and Microsoft sign-in links;
- audit entries about them lose their name and email.
Active and excluded people are never touched; someone reinstated is active again, and so is
someone an admin added back to the school (their membership is active).
"""
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, or_, select, update

from webapp import audit
from webapp.audit import actions
from webapp.audit.models import AuditEntry
from webapp.audit.service import prune_entries_before
from webapp.auth.models import AccountSession, MicrosoftSignInLink, OneTimeToken, User
from webapp.clock import as_utc, utcnow
from webapp.extensions import db
from webapp.microsoft.models import ConnectAttempt, MicrosoftConnection
from webapp.microsoft.selection import GroupChoice
from webapp.orgs.models import Membership, Organisation
from webapp.privacy.retention import retention_for
from webapp.user_sync.models import PriorValues, SyncChange, SyncRun, SyncedPerson

ERASED = "[erased]"
# erase_due outcomes
KEPT_FOREVER, SYNC_RUNNING, ERASED_NOBODY, ERASED_SOME = "never", "sync_running", "nobody", "erased"
CHUNK = 500
# Bulk statements; the session is expired afterwards rather than patched object by object.
UNSYNCHRONISED = {"synchronize_session": False}


def chunks(items):
    items = list(items)
    for start in range(0, len(items), CHUNK):
        yield items[start:start + CHUNK]


def erasure_cutoff(organisation_id, as_of):
    """People suspended before this moment are due; None when the school keeps them (Never)."""
    days = retention_for(organisation_id).erase_leavers_after_days
    return None if days is None else as_utc(as_of) - timedelta(days=days)


def due_people(organisation_id, cutoff):
    """Suspended by the sync before the cutoff, and not a member again: someone an admin added
    back on Manage users has their membership active while the sync still holds them suspended
    (they were erased, account and all, with an active membership)."""
    return db.session.scalars(select(SyncedPerson).outerjoin(
        Membership, Membership.id == SyncedPerson.membership_id).where(
        SyncedPerson.organisation_id == organisation_id, SyncedPerson.status == "suspended",
        SyncedPerson.excluded.is_(False), SyncedPerson.suspended_at.isnot(None),
        SyncedPerson.suspended_at < cutoff,
        or_(Membership.id.is_(None), Membership.status != "active"))
        .order_by(SyncedPerson.id).with_for_update(of=SyncedPerson)).all()


def erase_due(organisation_id, as_of=None):
    """Erases the organisation's due leavers in one transaction; returns the counts."""
    as_of = as_utc(as_of or utcnow())
    cutoff = erasure_cutoff(organisation_id, as_of)
    if cutoff is None:
        return {"outcome": KEPT_FOREVER}
    if _sync_running(organisation_id):
        return {"outcome": SYNC_RUNNING}
    people = due_people(organisation_id, cutoff)
    if not people:
        return {"outcome": ERASED_NOBODY, "people": 0}
    # Asked again with the due people locked: an undo that started since the first look would
    # otherwise reinstate them and then see them erased (its writes wait for these locks).
    if _sync_running(organisation_id):
        db.session.rollback()
        return {"outcome": SYNC_RUNNING}
    counts = {"people": len(people), **_scrub_history(organisation_id, people)}
    counts.update(_remove_accounts(organisation_id, people))
    for part in chunks(p.id for p in people):
        db.session.execute(delete(SyncedPerson).where(SyncedPerson.id.in_(part)),
                           execution_options=UNSYNCHRONISED)
    db.session.expire_all()
    audit.record(actions.ERASURE_RUN, organisation_id, after={**counts, "as_of": as_of.isoformat(),
                 "suspended_before": cutoff.isoformat()})
    db.session.commit()
    _forget_cached_counts(organisation_id)
    return {"outcome": ERASED_SOME, **counts}


def _sync_running(organisation_id):
    """A running sync holds the people it read; erasing under it waits for the next day."""
    return db.session.scalar(select(SyncRun.id).where(SyncRun.active_slot == organisation_id)) \
        is not None


def _scrub_history(organisation_id, people):
    runs = select(SyncRun.id).where(SyncRun.organisation_id == organisation_id)
    ids, microsoft_ids = [p.id for p in people], [p.microsoft_id for p in people]
    scrubbed = {"email": ERASED, "display_name": ERASED, "job_title": None, "department": None,
                "microsoft_id": ERASED}
    changes = 0
    for id_part, ms_part in zip(chunks(ids), chunks(microsoft_ids)):
        changes += db.session.execute(update(SyncChange).where(
            SyncChange.run_id.in_(runs), or_(SyncChange.synced_person_id.in_(id_part),
                                             SyncChange.microsoft_id.in_(ms_part)))
            .values(**scrubbed), execution_options=UNSYNCHRONISED).rowcount
        db.session.execute(update(PriorValues).where(
            PriorValues.run_id.in_(runs), PriorValues.synced_person_id.in_(id_part))
            .values(**PRIOR_SCRUBBED), execution_options=UNSYNCHRONISED)
    return {"history_entries": changes}


PRIOR_SCRUBBED = {"microsoft_id": ERASED, "email": ERASED, "email_normalised": ERASED,
                  "display_name": ERASED, "job_title": None, "department": None, "synced_via": None,
                  "suspended_group": None,
                  "user_email": None, "user_email_normalised": None, "user_display_name": None,
                  "user_job_title": None, "user_department": None}


def _remove_accounts(organisation_id, people):
    membership_ids = [p.membership_id for p in people if p.membership_id]
    memberships = [db.session.get(Membership, mid) for mid in membership_ids]
    user_ids = [m.user_id for m in memberships if m is not None]
    _scrub_audit_subjects(organisation_id, [p.id for p in people], user_ids)
    for part in chunks(membership_ids):
        db.session.execute(delete(Membership).where(Membership.id.in_(part)),
                           execution_options=UNSYNCHRONISED)
    deletable = [uid for uid in user_ids if _only_this_sync_uses(uid)]
    for part in chunks(deletable):
        db.session.execute(update(AuditEntry).where(AuditEntry.actor_user_id.in_(part))
                           .values(actor_email=ERASED), execution_options=UNSYNCHRONISED)
        # SQLite does not cascade unless asked: the account's own rows go explicitly.
        for model in (AccountSession, OneTimeToken, MicrosoftSignInLink):
            db.session.execute(delete(model).where(model.user_id.in_(part)),
                               execution_options=UNSYNCHRONISED)
        db.session.execute(delete(User).where(User.id.in_(part)), execution_options=UNSYNCHRONISED)
    db.session.expire_all()
    return {"memberships_removed": len(membership_ids), "accounts_deleted": len(deletable),
            "accounts_kept": len(user_ids) - len(deletable)}


def _scrub_audit_subjects(organisation_id, person_ids, user_ids):
    for column, ids in ((AuditEntry.subject_synced_person_id, person_ids),
                        (AuditEntry.subject_user_id, user_ids)):
        for part in chunks(ids):
            db.session.execute(update(AuditEntry).where(
                AuditEntry.organisation_id == organisation_id, column.in_(part))
                .values(subject_label=ERASED), execution_options=UNSYNCHRONISED)


def _only_this_sync_uses(user_id):
    """Created by the sync, and (its membership here being gone) nothing else refers to it."""
    user = db.session.get(User, user_id)
    if user is None or not user.created_by_sync:
        return False
    referrers = [(Membership, Membership.user_id),
                 (MicrosoftConnection, MicrosoftConnection.connected_by_user_id),
                 (ConnectAttempt, ConnectAttempt.user_id), (GroupChoice, GroupChoice.chosen_by_user_id),
                 (SyncRun, SyncRun.started_by_user_id), (SyncRun, SyncRun.reviewed_by_user_id),
                 (OneTimeToken, OneTimeToken.created_by_user_id)]
    return not any(db.session.scalar(select(func.count()).select_from(model).where(column == user_id))
                   for model, column in referrers)


def _forget_cached_counts(organisation_id):
    from webapp.user_sync.people import forget_status_counts
    forget_status_counts(organisation_id)


def erase_due_everywhere(as_of=None):
    """The hourly job: every organisation's due leavers, then audit entries past their retention.
    Returns {"organisations": {id: erase_due's answer}, "audit_entries_removed": n}."""
    as_of = as_utc(as_of or utcnow())
    results = {}
    for organisation_id in db.session.scalars(select(Organisation.id).order_by(Organisation.id)).all():
        results[organisation_id] = erase_due(organisation_id, as_of)
    cutoff = as_of - timedelta(days=current_app.config["AUDIT_RETENTION_DAYS"])
    removed = prune_entries_before(cutoff)
    db.session.commit()
    return {"organisations": results, "audit_entries_removed": removed}
