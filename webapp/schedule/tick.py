"""One tick: queue every school whose automatic sync is due, through the run lifecycle.

Safe with two ticks at once and when killed halfway:
- a school is claimed by moving its next_due_at past now with a conditional UPDATE (a row
  lock on PostgreSQL), committed in the same transaction as its run row, so a second tick
  finds nothing to claim and a killed tick leaves the school either untouched (still due) or
  with its run recorded;
- a run whose RQ job never got enqueued (killed between commit and enqueue) or was lost (Redis
  restarted) is enqueued again by the next tick under the same job id with RQ's unique=True.
Catch-up: the claim moves next_due_at to the first slot after now, so however many slots
were missed, each school syncs once.
"""
from dataclasses import dataclass
from datetime import timedelta

import logging

from redis.exceptions import RedisError
from rq.exceptions import DuplicateJobError
from sqlalchemy import select, update

from webapp.clock import utcnow
from webapp.errors import ServiceError
from webapp.extensions import db
from webapp.microsoft.models import GroupChoice, MicrosoftConnection
from webapp.orgs.models import Organisation
from webapp.schedule import due, services
from webapp.schedule.models import SyncSchedule
from webapp.schedule.zones import organisation_zone
from webapp.user_sync import models as m
from webapp.user_sync.engine import lifecycle

QUEUED, SKIPPED, REQUEUED = "queued", "skipped", "requeued"
# A run younger than this may still be between its commit and its enqueue in another tick.
ENQUEUE_GRACE = timedelta(seconds=10)
SCHEDULES = SyncSchedule.__table__
log = logging.getLogger(__name__)


@dataclass
class TickLine:
    organisation_id: int
    name: str
    action: str
    reason: str = ""
    run_id: int = None

    @property
    def text(self):
        if self.action == QUEUED:
            return f"{self.name}: queued an automatic sync (run {self.run_id})."
        if self.action == REQUEUED:
            return (f"{self.name}: queued run {self.run_id} again (its job was not in the queue, "
                    "for example after a Redis restart).")
        return f"{self.name}: skipped, {services.REASON_WORDS.get(self.reason, self.reason)}."


def tick(now):
    """The clock's job and the CLI: queue due schools, then the time-based email checks."""
    from webapp.notifications import checks
    lines = enqueue_due(now)
    checks.run_checks(now)
    return lines


def enqueue_due(now):
    """Runs one tick as of `now` (aware UTC); returns a TickLine per school it acted on."""
    lines = requeue_lost_runs(now)
    rows = due_rows(now)
    context = _Context.load(rows)
    for row in rows:
        lines.append(_handle(row, context, now))
    return lines


def due_rows(now):
    return db.session.execute(
        select(SCHEDULES.c.id, SCHEDULES.c.organisation_id, SCHEDULES.c.frequency,
               SCHEDULES.c.minute_of_day, Organisation.name, Organisation.time_zone,
               Organisation.trust_id)
        .join(Organisation, Organisation.id == SCHEDULES.c.organisation_id)
        .where(SCHEDULES.c.frequency != due.OFF, SCHEDULES.c.next_due_at <= now)
        .order_by(SCHEDULES.c.next_due_at, SCHEDULES.c.id)).all()


@dataclass
class _Context:
    """What the tick needs about every due school, in four queries rather than four each."""
    with_group: set
    connections: dict
    reviewing: set
    running: set

    @classmethod
    def load(cls, rows):
        ids = [row.organisation_id for row in rows]
        if not ids:
            return cls(set(), {}, set(), set())
        trust_ids = {row.trust_id for row in rows if row.trust_id is not None}
        connections = {}
        for connection in db.session.scalars(select(MicrosoftConnection).where(
                MicrosoftConnection.trust_id.in_(trust_ids)
                | MicrosoftConnection.organisation_id.in_(ids))):
            key = ("trust", connection.trust_id) if connection.trust_id else ("org",
                                                                               connection.organisation_id)
            connections[key] = connection
        return cls(
            with_group=set(db.session.scalars(select(GroupChoice.organisation_id).where(
                GroupChoice.organisation_id.in_(ids)))),
            connections=connections,
            reviewing=set(db.session.scalars(select(m.SyncRun.organisation_id).where(
                m.SyncRun.organisation_id.in_(ids), m.SyncRun.status == m.NEEDS_REVIEW))),
            running=set(db.session.scalars(select(m.SyncRun.active_slot).where(
                m.SyncRun.active_slot.in_(ids)))))

    def connection_for(self, row):
        key = ("trust", row.trust_id) if row.trust_id is not None else ("org", row.organisation_id)
        return self.connections.get(key)


def _handle(row, context, now):
    line = TickLine(row.organisation_id, row.name, SKIPPED)
    reason = services.paused_reason(context.connection_for(row),
                                     row.organisation_id in context.with_group or None,
                                     row.organisation_id in context.reviewing)
    if reason is None and row.organisation_id in context.running:
        reason = services.RUNNING
    if reason is not None:
        line.reason = reason if _claim(row, now, commit=True) else services.TAKEN
        return line
    if not _claim(row, now, commit=False):
        line.reason = services.TAKEN
        return line
    organisation = db.session.get(Organisation, row.organisation_id)
    try:
        run, started = lifecycle.start_run(organisation, None, m.KIND_SYNC, m.TRIGGER_AUTOMATIC)
    except ServiceError:  # disconnected or group removed since the context was loaded
        db.session.rollback()
        line.reason = services.NOT_CONNECTED if _claim(row, now, commit=True) else services.TAKEN
        return line
    if not started:  # a Sync now won the slot meanwhile: that run serves this slot
        db.session.rollback()
        line.reason = services.RUNNING if _claim(row, now, commit=True) else services.TAKEN
        return line
    line.action, line.run_id = QUEUED, run.id
    return line


def _claim(row, now, commit):
    """Moves the school's next_due_at to its first slot after now, if no other tick did."""
    zone = organisation_zone(row.time_zone)
    following = due.next_slot(row.frequency, row.minute_of_day, zone, row.organisation_id, now)
    result = db.session.execute(update(SCHEDULES).where(
        SCHEDULES.c.id == row.id, SCHEDULES.c.next_due_at <= now).values(
            next_due_at=following, updated_at=utcnow()))
    if result.rowcount != 1:
        db.session.rollback()
        return False
    if commit:
        db.session.commit()
    return True


def requeue_lost_runs(now):
    """Automatic runs still waiting for a worker whose RQ job is gone get it back, same id."""
    lines = []
    waiting = db.session.scalars(select(m.SyncRun).where(
        m.SyncRun.status == m.QUEUED, m.SyncRun.trigger == m.TRIGGER_AUTOMATIC,
        m.SyncRun.created_at <= now - ENQUEUE_GRACE)).all()
    for run in waiting:
        try:
            lifecycle.enqueue_run_job(run)
        except DuplicateJobError:
            continue  # its job is still there: a worker will take it
        except RedisError as error:
            log.warning("tick: Redis unreachable (%s); queued runs are re-checked next tick",
                        type(error).__name__)
            break
        name = db.session.scalar(select(Organisation.name).where(
            Organisation.id == run.organisation_id))
        lines.append(TickLine(run.organisation_id, name, REQUEUED, run_id=run.id))
    return lines
