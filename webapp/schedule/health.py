"""The 48-hour rule: automatic sync has been on for 48 hours and no sync completed in them.

One SQL condition over a sync_schedules row, used by the tick's mail check
(schedule.timed_events) and by the Schools page (trust.overview), so the mail and the page can
never disagree about which school it is.
"""
from datetime import timedelta

from sqlalchemy import and_, exists

from webapp.schedule import due
from webapp.schedule.models import SyncSchedule
from webapp.user_sync import models as m

STALE_AFTER = timedelta(hours=48)


def no_recent_success(now):
    """True for a schedule whose school has had automatic sync on since 48 hours before `now`
    and no sync completed since then."""
    cutoff = now - STALE_AFTER
    completed = exists().where(m.SyncRun.organisation_id == SyncSchedule.organisation_id,
                               m.SyncRun.status == m.COMPLETE, m.SyncRun.kind == m.KIND_SYNC,
                               m.SyncRun.finished_at >= cutoff)
    return and_(SyncSchedule.frequency != due.OFF, SyncSchedule.enabled_at <= cutoff, ~completed)
