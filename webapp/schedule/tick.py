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
from sqlalchemy import case, literal, select, update

from webapp.clock import as_of_clock, utcnow
from webapp.extensions import db
from webapp.microsoft import check
from webapp.microsoft.models import connections_of
from webapp.microsoft.selection import saved_selections
from webapp.orgs.models import Organisation
from webapp.schedule import due, services, timed_events
from webapp.schedule.models import SyncSchedule
from webapp.zones import organisation_zone
from webapp.user_sync import models as m
from webapp.user_sync.engine import batch, lifecycle, queries, queued_runs

QUEUED, SKIPPED, REQUEUED = "queued", "skipped", "requeued"
# A run younger than this may still be between its commit and its enqueue in another tick.
ENQUEUE_GRACE = timedelta(seconds=10)
CLAIM_CHUNK = 500  # schools per claiming UPDATE (its CASE has a parameter pair per school)
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
        if self.action == QUEUED and self.reason == services.QUEUE_DOWN:
            return (f"{self.name}: recorded automatic sync run {self.run_id}, but the job queue "
                    "(Redis) is unreachable; the next tick puts it in the queue.")
        if self.action == QUEUED:
            return f"{self.name}: queued an automatic sync (run {self.run_id})."
        if self.action == REQUEUED:
            return (f"{self.name}: queued run {self.run_id} again (its job was not in the queue, "
                    "for example after a Redis restart).")
        return f"{self.name}: skipped, {services.REASON_WORDS.get(self.reason, self.reason)}."


def tick(as_of=None):
    """The clock's job (on the real clock) and the CLI: queue due schools, then the time-based
    email checks. Run as of a moment (`--as-of`), the whole tick reads that moment and the syncs
    it queues run from it, so their finish times and the 48-hour check share one clock."""
    with as_of_clock(as_of):
        now = utcnow()
        lines = enqueue_due(now, as_of)
        timed_events.run_checks(now)
    return lines


def enqueue_due(now, as_of=None):
    """Runs one tick as of `now` (aware UTC); returns a TickLine per school it acted on. as_of:
    the moment the tick was asked to run as of, which its jobs carry (None: the real clock).

    A fixed number of statements however many schools are due: one read of who is due, four of
    what they need, one claim per 500 schools, one bulk insert of their runs, one commit, then
    one Redis pipeline for all their jobs. While Microsoft refuses the platform's app credentials
    nothing is claimed: every due school stays due and syncs once the pause ends.
    """
    if check.platform_pause(now) is not None:
        return [TickLine(None, "Every school", SKIPPED, services.APP_CREDENTIALS)]
    lines = requeue_lost_runs(now, as_of)
    # The slots, then the due rows (with the pauses), then the reviews: a run that ends in
    # between, an undo that pauses the school or a sync that stops at a review, is then seen
    # in one or the other (read the other way round, in neither, and the school got an
    # automatic run that redid the undo or ran while its review waited).
    running = queries.active_slots()
    rows = due_rows(now)
    context = _Context.load(rows, running)
    busy = context.briefly_busy()
    # A school busy with a one-person sync or an undo (seconds) is left due, not claimed: the
    # next tick, a minute later, syncs it instead of skipping its slot until the next one.
    claimed = _claim([row for row in rows if row.organisation_id not in busy], now)
    by_school, startable = {}, {}
    for row in rows:
        line = by_school[row.organisation_id] = TickLine(row.organisation_id, row.name, SKIPPED)
        if row.organisation_id in busy:
            line.reason = services.BRIEFLY_BUSY
        elif row.id not in claimed:
            line.reason = services.TAKEN
        else:
            line.reason = context.skip_reason(row)
            if line.reason is None:
                startable[row.organisation_id] = context.selections[row.organisation_id]
    started = queued_runs.insert_queued_runs(startable)
    db.session.commit()
    for organisation_id in startable:
        line = by_school[organisation_id]
        if organisation_id in started:  # else a Sync now won the slot meanwhile: it serves this slot
            line.action, line.run_id = QUEUED, started[organisation_id][0]
        else:
            line.reason = services.RUNNING
    _enqueue_jobs(started, by_school, as_of)
    return lines + list(by_school.values())


def due_rows(now):
    return db.session.execute(
        select(SCHEDULES.c.id, SCHEDULES.c.organisation_id, SCHEDULES.c.frequency,
               SCHEDULES.c.minute_of_day, SCHEDULES.c.paused_at, Organisation.name,
               Organisation.time_zone, Organisation.trust_id)
        .join(Organisation, Organisation.id == SCHEDULES.c.organisation_id)
        .where(SCHEDULES.c.frequency != due.OFF, SCHEDULES.c.next_due_at <= now)
        .order_by(SCHEDULES.c.next_due_at, SCHEDULES.c.id)).all()


@dataclass
class _Context:
    """What the tick needs about every due school, in four queries rather than four each."""
    selections: dict  # organisation id -> microsoft.selection.Selection (empty if none chosen)
    connections: dict  # organisation id -> its MicrosoftConnection or None (connections_of)
    reviewing: set
    running: dict  # organisation id -> the kind of run holding its one-sync slot

    @classmethod
    def load(cls, rows, running):
        """running: every school's slot, read before the due rows (enqueue_due says why)."""
        ids = [row.organisation_id for row in rows]
        if not ids:
            return cls({}, {}, set(), {})
        due = set(ids)
        reviewing = set(db.session.scalars(select(m.SyncRun.organisation_id).where(
            m.SyncRun.organisation_id.in_(ids), m.SyncRun.status == m.NEEDS_REVIEW)))
        context = cls(
            selections=saved_selections(ids),
            connections=connections_of((row.organisation_id, row.trust_id) for row in rows),
            reviewing=reviewing,
            running={school: kind for school, kind in running.items() if school in due})
        context.free_stale_slots()
        return context

    def free_stale_slots(self):
        """A due school whose run's worker died (nobody had the screen open to notice) gets its
        run failed by the same sweep the screen uses, so the schedule does not wait on it."""
        for organisation_id in sorted(self.running):
            # Only a run the sweep failed frees the school now: one that ended by itself since
            # the slots were read may have ended at a review, or as an undo that paused the
            # schedule, which this tick read before it ended.
            if lifecycle.failed_stale_run(organisation_id):
                self.running.pop(organisation_id)

    def briefly_busy(self):
        """Schools whose slot holder is no sync: left due, not claimed (a preview at the slot
        took a daily school's sync for the day)."""
        return {organisation_id for organisation_id, kind in self.running.items()
                if kind in (m.KIND_PERSON, m.KIND_UNDO, m.KIND_PREVIEW)}

    def skip_reason(self, row):
        """Why this claimed school gets no run now, or None to queue one."""
        reason = services.paused_reason(self.connections[row.organisation_id],
                                        bool(self.selections[row.organisation_id].synced),
                                        row.organisation_id in self.reviewing,
                                        paused_by_undo=row.paused_at is not None)
        if reason is None and row.organisation_id in self.running:
            return services.RUNNING
        return reason


def _claim(rows, now):
    """Moves each due school's next_due_at to its first slot after now, unless another tick did
    first (the WHERE re-checks next_due_at; on PostgreSQL the UPDATE waits for the other tick's
    row locks and then re-checks). Returns the schedule ids this tick claimed.

    The rows are locked in schedule id order (an UPDATE alone takes them in whatever order the
    table holds them), as Sync now locks the schedules an undo paused (schedule.pause): in two
    orders, each could wait for the other."""
    following = {row.id: due.next_slot(row.frequency, row.minute_of_day,
                                       organisation_zone(row.time_zone), row.organisation_id, now)
                 for row in rows}
    ids, claimed, changed_at = sorted(following), set(), utcnow()
    for start in range(0, len(ids), CLAIM_CHUNK):
        chunk = ids[start:start + CLAIM_CHUNK]
        new_due = case({schedule_id: literal(following[schedule_id], SCHEDULES.c.next_due_at.type)
                        for schedule_id in chunk}, value=SCHEDULES.c.id)
        due_now = (select(SCHEDULES.c.id).where(SCHEDULES.c.id.in_(chunk),
                                                SCHEDULES.c.next_due_at <= now)
                   .order_by(SCHEDULES.c.id).with_for_update())
        claimed.update(db.session.scalars(update(SCHEDULES).where(
            SCHEDULES.c.id.in_(due_now), SCHEDULES.c.next_due_at <= now).values(
                next_due_at=new_due, updated_at=changed_at).returning(SCHEDULES.c.id)))
    return claimed


def _enqueue_jobs(started, by_school, as_of):
    if not started:
        return
    try:
        batch.enqueue_run_jobs(started, as_of)
    except RedisError as error:
        log.warning("tick: Redis unreachable (%s); %s queued runs are enqueued by the next tick",
                    type(error).__name__, len(started))
        for organisation_id in started:
            by_school[organisation_id].reason = services.QUEUE_DOWN


def requeue_lost_runs(now, as_of=None):
    """Automatic runs still waiting for a worker whose RQ job is gone get it back, same id."""
    lines = []
    waiting = db.session.scalars(select(m.SyncRun).where(
        m.SyncRun.status == m.QUEUED, m.SyncRun.trigger == m.TRIGGER_AUTOMATIC,
        m.SyncRun.created_at <= now - ENQUEUE_GRACE)).all()
    for run in waiting:
        try:
            lifecycle.enqueue_run_job(run, as_of)
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
