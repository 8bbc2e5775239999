"""Automatic sync paused by Undo this sync, until an admin turns it back on or presses Sync now.

Without the pause the next tick would sync the same wrong Microsoft data again and redo what
the admin just undid. The tick skips a paused school (services.paused_reason), the Automatic
sync card says so, and Save schedule (services.save_schedule) or Sync now (lock_pauses, then
resume) clears it.
"""
from sqlalchemy import select, update

from webapp import audit
from webapp.audit import actions
from webapp.extensions import db
from webapp.schedule.models import SyncSchedule
from webapp.user_sync.engine.store import chunks

SCHEDULES = SyncSchedule.__table__


def _schedule(organisation_id):
    return db.session.scalar(select(SyncSchedule).where(
        SyncSchedule.organisation_id == organisation_id).with_for_update())


def pause_for_undo(organisation_id, undo_run_id, now):
    """In the undo's transaction; True if automatic sync was on (and is now paused)."""
    schedule = _schedule(organisation_id)
    if schedule is None or not schedule.is_on:
        return False
    schedule.paused_at, schedule.paused_by_run_id = now, undo_run_id
    return True


def clear_pause(schedule):
    schedule.paused_at = schedule.paused_by_run_id = None


def lock_pauses(organisation_ids):
    """Sync now pressed for these schools: locks the schedules an undo paused, before the new
    runs take their slots, in schedule id order, the order the tick claims schedules in and
    then takes slots (the reverse, for two schools, could make each wait for the other).
    Returns {organisation_id: the undo run that paused it}; one query per 900 schools."""
    paused = {}
    for part in chunks(sorted(organisation_ids)):
        paused.update(db.session.execute(
            select(SCHEDULES.c.organisation_id, SCHEDULES.c.paused_by_run_id)
            .where(SCHEDULES.c.organisation_id.in_(part), SCHEDULES.c.paused_at.is_not(None))
            .order_by(SCHEDULES.c.id).with_for_update()).all())
    return paused


def resume(paused, user):
    """Sync now started for the schools of `paused` (from lock_pauses): automatic sync carries
    on. In the caller's transaction: an audit entry per school, one UPDATE per 900 schools."""
    audit.record_many(actions.AUTOMATIC_SYNC_RESUMED, [
        {"organisation_id": organisation_id, "before": {"paused_by_run": undo_run_id},
         "after": {"by": "Sync now"}} for organisation_id, undo_run_id in paused.items()],
        actor=user)
    for part in chunks(paused):
        db.session.execute(update(SCHEDULES).where(SCHEDULES.c.organisation_id.in_(part))
                           .values(paused_at=None, paused_by_run_id=None))
