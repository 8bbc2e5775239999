"""Automatic sync paused by Undo this sync, until an admin turns it back on or presses Sync now.

Without the pause the next tick would sync the same wrong Microsoft data again and redo what
the admin just undid. The tick skips a paused school (services.paused_reason), the Automatic
sync card says so, and Save schedule (services.save_schedule) or Sync now (resume) clears it.
"""
from sqlalchemy import select

from webapp import audit
from webapp.audit import actions
from webapp.extensions import db
from webapp.schedule.models import SyncSchedule


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


def resume(organisation_id, user):
    """Sync now pressed: automatic sync carries on. In the caller's transaction; True if it
    was paused."""
    schedule = _schedule(organisation_id)
    if schedule is None or not schedule.paused_by_undo:
        return False
    audit.record(actions.AUTOMATIC_SYNC_RESUMED, organisation_id, actor=user,
                 before={"paused_by_run": schedule.paused_by_run_id}, after={"by": "Sync now"})
    clear_pause(schedule)
    return True
