"""The 48-hour rule: automatic sync has been on for 48 hours and no sync completed in them.

One SQL condition over a sync_schedules row, used by the tick's mail check
(schedule.timed_events) and by the Schools page (trust.overview), so the mail and the page can
never disagree about which school it is.
"""
from datetime import timedelta

from sqlalchemy import and_, func, true

from webapp.schedule import due
from webapp.schedule.models import SyncSchedule
from webapp.user_sync.engine.fleet import stored_fact

STALE_AFTER = timedelta(hours=48)


def no_recent_success(now):
    """True for a schedule whose school has had automatic sync on since 48 hours before `now`
    and no sync completed since then. In a statement that joined the school's stored run facts
    on the schedule's school (fleet.join_stored_facts)."""
    cutoff = now - STALE_AFTER
    last_success = stored_fact("last_success_at", SyncSchedule.organisation_id)
    # Never completed (NULL) counts as before the cutoff; written once, the statement asks once.
    return and_(SyncSchedule.frequency != due.OFF, SyncSchedule.enabled_at <= cutoff,
                func.coalesce(last_success < cutoff, true()))
