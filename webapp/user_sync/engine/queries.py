"""Which sync runs an organisation has: the active one, the latest, the last complete, history."""
from sqlalchemy import select

from webapp.errors import NotFound
from webapp.extensions import db
from webapp.user_sync import models as m


def active_run(organisation_id):
    return db.session.scalar(select(m.SyncRun).where(m.SyncRun.active_slot == organisation_id))


def active_slots(organisation_ids=None):
    """{organisation id: the kind of its run} of these organisations (None: of every one) that
    have a run queued or running (one query)."""
    held = select(m.SyncRun.active_slot, m.SyncRun.kind).where(m.SyncRun.active_slot.isnot(None))
    if organisation_ids is not None:
        ids = list(organisation_ids)
        if not ids:
            return {}
        held = held.where(m.SyncRun.active_slot.in_(ids))
    return dict(db.session.execute(held).all())


def latest_run(organisation_id, kinds=(m.KIND_SYNC,)):
    return db.session.scalar(select(m.SyncRun).where(
        m.SyncRun.organisation_id == organisation_id, m.SyncRun.kind.in_(kinds))
        .order_by(m.SyncRun.id.desc()).limit(1))


def last_complete_run(organisation_id, before_id=None):
    stmt = select(m.SyncRun).where(m.SyncRun.organisation_id == organisation_id,
                                   m.SyncRun.kind == m.KIND_SYNC, m.SyncRun.status == m.COMPLETE)
    if before_id is not None:
        stmt = stmt.where(m.SyncRun.id < before_id)
    return db.session.scalar(stmt.order_by(m.SyncRun.id.desc()).limit(1))


def last_recorded_run(organisation_id):
    """The newest sync that got as far as deciding (its skips say who was left out, and why)."""
    return db.session.scalar(select(m.SyncRun).where(
        m.SyncRun.organisation_id == organisation_id, m.SyncRun.kind == m.KIND_SYNC,
        m.SyncRun.status.in_((m.COMPLETE, m.NEEDS_REVIEW, m.CANCELLED)),
        m.SyncRun.fetched > 0).order_by(m.SyncRun.id.desc()).limit(1))


def pending_review(organisation_id):
    return db.session.scalar(select(m.SyncRun).where(
        m.SyncRun.organisation_id == organisation_id, m.SyncRun.status == m.NEEDS_REVIEW)
        .order_by(m.SyncRun.id.desc()).limit(1))


def get_run(organisation, run_id):
    run = db.session.get(m.SyncRun, run_id)
    if run is None or run.organisation_id != organisation.id:
        raise NotFound("No such sync run.")
    return run
