"""A run's life and its guards: queued -> running -> complete | needs review | failed | cancelled.

Every change of a run's state goes through `_move`, whose WHERE clause is the guard: a run moves
only from the states listed, so a worker, a sweep and an admin racing each other cannot both win.
The slot is a unique column (sync_runs.active_slot = organisation id while a run is queued or
running), so two clicks, two tabs, two admins or two web processes can never start two syncs.

    start_run        (none) -> queued            approve_review  needs review -> queued
    mark_running     queued -> running           cancel_review   needs review -> cancelled
    claim_for_apply  running -> running (applying)
    finish_run       queued | running -> complete | needs review | failed (the one way a run ends)
    queue_manual_syncs  (none) -> queued, and the school's waiting review -> cancelled (replaced)

Whatever takes more than one of a school's waiting review, its schedule and its slot takes them
in that order (Sync now, Apply removals, the undo, the tick), and many schools' in ascending
organisation id (schedules: schedule id), so no two transactions can each wait for the other
(tests/sync/test_review_races.py, test_slot_races.py).
"""
import logging
import uuid

from redis.exceptions import RedisError
from sqlalchemy import case, literal, select, update
from sqlalchemy.exc import IntegrityError

from webapp import audit
from webapp.audit import actions
from webapp.clock import as_utc, utcnow
from webapp.dates import format_moment
from webapp.errors import ServiceError
from webapp.extensions import db
from webapp.microsoft.models import connection_for_organisation
from webapp.microsoft.selection import refuse_unless_syncable, saved_selection
from webapp.redis_conn import enqueue
from webapp.schedule import pause
from webapp.user_sync import models as m
from webapp.user_sync.engine import run_facts
from webapp.user_sync.engine.liveness import stale_reason
from webapp.user_sync.engine.queries import active_run, get_run
from webapp.user_sync.engine.queued_runs import insert_queued_runs
from webapp.user_sync.engine.store import chunks
from webapp.user_sync.signals import announce_finished

RUNS = m.SyncRun.__table__
NOTHING_CHANGED = "Nothing was changed."
ANSWERED = "This review has already been answered or replaced by a newer sync."
QUEUE_UNREACHABLE = ("The job queue (Redis) cannot be reached right now, so this page cannot tell "
                     "whether the sync is still running. It updates by itself when the queue is back.")
PHASE_WHEN_ENDED = {m.COMPLETE: "Finished", m.NEEDS_REVIEW: "Waiting for review"}
log = logging.getLogger(__name__)


def _move(run_id, from_states, **values):
    """UPDATE the run if it is in one of from_states; True if it was. The caller commits."""
    moved = db.session.execute(update(RUNS).where(RUNS.c.id == run_id,
                                                  RUNS.c.status.in_(from_states)).values(**values)
                               .returning(RUNS.c.organisation_id)).scalar()
    if moved is not None and not values.keys().isdisjoint(run_facts.RULES_READ):
        run_facts.changed(db.session, [moved])
    return moved is not None


def start_run(organisation, user, kind=m.KIND_SYNC, *, selection=None):
    """An admin's Sync now (or preview) for the organisation; returns (run, started_now).

    If one is already queued or running, that run is returned instead. A Sync now replaces a
    waiting review (queue_manual_syncs). selection: the groups to fetch; the saved selection
    unless a preview tries another. (The schedule's tick queues its own runs, see schedule.tick.)
    """
    sweep_stale_runs(organisation.id)
    running = active_run(organisation.id)
    if running is not None:
        return running, False
    selection = selection or saved_selection(organisation)
    refuse_unless_syncable(connection_for_organisation(organisation), selection)
    if kind == m.KIND_SYNC:
        started = queue_manual_syncs({organisation.id: selection}, user)
    else:
        started = insert_queued_runs({organisation.id: selection}, kind, m.TRIGGER_MANUAL,
                                     started_by=user)
    if organisation.id not in started:  # another click or tab took the slot just now
        db.session.rollback()
        return active_run(organisation.id), False
    db.session.commit()
    run = db.session.get(m.SyncRun, started[organisation.id][0])
    _enqueue(run)
    return run, True


def queue_manual_syncs(selections, user):
    """An admin's Sync now for each school in selections ({organisation_id: Selection}), in the
    caller's transaction: a queued run for every school whose slot is free (insert_queued_runs).

    The one rule for a review waiting when Sync now is pressed: the new sync replaces it. The
    review's plan is out of date, nobody has been changed, and the new sync is held to the same
    safety limit (still over it, it stops at a review of its own). Automatic syncs never come
    here: the tick holds a school while its review waits (schedule.services.paused_reason).
    And the rule for automatic sync paused by an undo: Sync now ends the pause (schedule.pause).
    Returns {organisation_id: (run_id, rq_job_id)} of the schools that started."""
    _lock_waiting_reviews(selections)
    paused = pause.lock_pauses(selections)
    started = insert_queued_runs(selections, m.KIND_SYNC, m.TRIGGER_MANUAL, started_by=user)
    replace_waiting_reviews({organisation_id: replaced_reason("a newer sync", run_id)
                             for organisation_id, (run_id, _) in started.items()})
    pause.resume({organisation_id: paused[organisation_id] for organisation_id in started
                  if organisation_id in paused}, user)
    return started


def _lock_waiting_reviews(organisation_ids):
    """Before the new runs take their slots. Apply removals takes the review's row and then the
    slot, so one pressed meanwhile waits for this transaction and then finds its review
    replaced; locked after the slots, each would wait for the other (PostgreSQL then fails one
    of them as a deadlock)."""
    for part in chunks(sorted(organisation_ids)):
        db.session.execute(select(RUNS.c.id).where(
            RUNS.c.organisation_id.in_(part), RUNS.c.status == m.NEEDS_REVIEW)
            .order_by(RUNS.c.organisation_id, RUNS.c.id).with_for_update())


def replace_waiting_reviews(reasons):
    """The one way a waiting review is replaced, by a Sync now or by an undo of the data it was
    computed from: cancelled, ended now, with each school's reason ({organisation_id: reason}).
    In the caller's transaction; one UPDATE per 300 schools (three parameters each). Returns
    how many reviews it replaced."""
    now, replaced = utcnow(), 0
    for part in chunks(reasons, 300):
        reason = case({organisation_id: literal(reasons[organisation_id])
                       for organisation_id in part}, value=RUNS.c.organisation_id)
        schools = db.session.scalars(update(RUNS).where(
            RUNS.c.organisation_id.in_(part), RUNS.c.status == m.NEEDS_REVIEW)
            .values(status=m.CANCELLED, reason=reason, finished_at=now)
            .returning(RUNS.c.organisation_id)).all()
        run_facts.changed(db.session, schools)
        replaced += len(schools)
    return replaced


def replaced_reason(replacement, run_id):
    """A replaced review's reason: what replaced it ("a newer sync", "the undo of an earlier
    sync") and that run's id; answered_already words it again for an Apply removals too late."""
    return f"{_REPLACED_BY}{replacement} (run {run_id}). {NOTHING_CHANGED}"


_REPLACED_BY = "Replaced by "


def approve_review(organisation, run_id, user):
    """Apply removals: the reviewed run takes the slot again and a worker applies its plan."""
    get_run(organisation, run_id)  # another organisation's run is a 404, not a message
    # started_at restarts so the stale-run sweep times the wait for a worker from now.
    try:
        moved = _move(run_id, (m.NEEDS_REVIEW,), status=m.QUEUED, active_slot=organisation.id,
                      approved=True, started_at=utcnow(), reviewed_by_user_id=user.id,
                      phase="Waiting for a worker", rq_job_id=uuid.uuid4().hex)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ServiceError("Another sync is running. Wait for it to finish, then review again.")
    if not moved:
        raise ServiceError(answered_already(organisation, run_id, user))
    audit.record(actions.REVIEW_APPROVED, organisation.id, actor=user, after={"run": run_id},
                 commit=True)
    run = db.session.get(m.SyncRun, run_id)
    db.session.refresh(run)
    _enqueue(run)
    return run


def waiting_review(organisation, run_id, user):
    """The run if its review still waits for an answer; else ServiceError saying what became
    of it (Apply removals' confirm step asks this before it shows the count)."""
    run = get_run(organisation, run_id)
    db.session.refresh(run)
    if run.status != m.NEEDS_REVIEW:
        raise ServiceError(answered_already(organisation, run_id, user))
    return run


def cancel_review(organisation, run_id, user):
    get_run(organisation, run_id)
    moved = _move(run_id, (m.NEEDS_REVIEW,), status=m.CANCELLED, reviewed_by_user_id=user.id,
                  finished_at=utcnow(),
                  reason=f"Cancelled by {user.email} after review. {NOTHING_CHANGED}")
    db.session.commit()
    if not moved:
        raise ServiceError(answered_already(organisation, run_id, user))
    audit.record(actions.REVIEW_CANCELLED, organisation.id, actor=user, after={"run": run_id},
                 commit=True)


def answered_already(organisation, run_id, user):
    """What became of a review another tab (or admin) answered first, in words."""
    run = get_run(organisation, run_id)
    db.session.refresh(run)
    reviewer = run.reviewed_by
    who = ("someone" if reviewer is None else
           "you (in another tab or window)" if user is not None and reviewer.id == user.id
           else reviewer.name_or_email)
    at = format_moment(run.finished_at, organisation)
    if run.approved:
        return f"Apply removals was already pressed by {who}: " + {
            m.COMPLETE: f"the removals were applied at {at}.",
            m.FAILED: "applying them failed (see below)."}.get(
                run.status, "the removals are being applied now.")
    if run.status == m.CANCELLED and reviewer is not None:
        return (f"This review was already cancelled by {who} at {at}: nobody was added, "
                "changed or suspended.")
    if run.status == m.CANCELLED:  # replaced (replace_waiting_reviews): its reason says by what
        replaced_by = (run.reason or "").partition(". ")[0]
        by_what = replaced_by[len(_REPLACED_BY):] if replaced_by.startswith(_REPLACED_BY) else ""
        return (f"This review was replaced{' by ' + by_what if by_what else ''}, so nothing was "
                "applied from it.")
    return ANSWERED


def _enqueue(run):
    try:  # the sync queue's time limit and TTLs come from JOB_* settings (README: Deploying)
        enqueue_run_job(run)
    except Exception as error:  # Redis unreachable: say so rather than leave a run queued forever
        finish_run(run.id, m.FAILED, reason=not_queued_reason(error))
        db.session.refresh(run)


def not_queued_reason(error):
    return (f"The sync could not be queued ({type(error).__name__}: the job queue is "
            "unreachable). Try again in a minute; if it keeps happening, contact support. "
            f"{NOTHING_CHANGED}")


RUN_JOB = "jobs.sync.run_sync_job"


def run_job_description(run_id, organisation_id):
    return f"sync run {run_id} of organisation {organisation_id}"


def run_job_args(run_id, as_of=None):
    """The sync job's arguments: the run, and the moment a tick run `--as-of` stood at (the job
    then runs on that clock, see webapp.clock.running_from); the real clock needs none."""
    return (run_id,) if as_of is None else (run_id, as_utc(as_of).isoformat())


def enqueue_run_job(run, as_of=None):
    """unique=True: the tick re-enqueues a queued run whose job Redis lost under the same id, so
    a job that still exists is never doubled (RQ raises DuplicateJobError instead)."""
    return enqueue("sync", RUN_JOB, *run_job_args(run.id, as_of), job_id=run.rq_job_id,
                   unique=True, description=run_job_description(run.id, run.organisation_id))


def mark_running(run_id, pid):
    moved = _move(run_id, (m.QUEUED,), status=m.RUNNING, started_at=utcnow(), worker_pid=pid,
                  phase="Starting")
    db.session.commit()
    return moved


def report_progress(run_id, phase, fetched=None, total=None, fetched_at=None):
    """fetched_at: when the last page arrived, given once the fetch is complete."""
    values = {"phase": phase}
    if fetched_at is not None:
        values["fetched_at"] = fetched_at
    if fetched is not None:
        values["fetched"] = fetched
    if total is not None:
        values["total"] = total
    _move(run_id, (m.RUNNING,), **values)
    db.session.commit()


def claim_for_apply(run_id):
    """Inside the apply transaction: proves the run was not failed by a sweep meanwhile."""
    return _move(run_id, (m.RUNNING,), phase="Applying changes", applying_at=utcnow())


def finish_run(run_id, status, reason=None, counts=None):
    """The one way a run ends. It commits whatever the caller wrote in the same transaction
    (the people, the run's changes) together with the outcome; if the run had already ended
    (a sweep failed it meanwhile), it rolls all of that back and returns False."""
    values = {"status": status, "active_slot": None, "finished_at": utcnow(), "reason": reason,
              "phase": PHASE_WHEN_ENDED.get(status, "Stopped"), **(counts or {})}
    if not _move(run_id, m.ACTIVE_STATES, **values):
        db.session.rollback()
        return False
    db.session.commit()
    announce_finished(run_id)
    return True


# Sync now is the wrong retry for an undo: it reads the same wrong data again and, changing
# anyone, leaves the sync impossible to undo.
TRY_AGAIN = {m.KIND_UNDO: "Open the sync from Sync history and press Undo this sync again.",
             m.KIND_PERSON: "Press Sync this person now again."}


def _try_again(run):
    return TRY_AGAIN.get(run.kind, "Press Sync now to try again.")


def sweep_stale_runs(organisation_id):
    """Fails queued/running runs whose worker is gone. Called when a sync starts and when the
    screen polls, so a killed worker never leaves a run 'running' for ever. Returns a sentence
    for the admin when Redis cannot be reached (the run is then left as it is), else None."""
    return _sweep(organisation_id)[1]


def failed_stale_run(organisation_id):
    """The same sweep; whether it failed the school's run just now (its worker gone), which a
    run that ended by itself meanwhile, say at a review, is not."""
    return _sweep(organisation_id)[0]


def _sweep(organisation_id):
    run = active_run(organisation_id)
    if run is None:
        return False, None
    try:
        reason = stale_reason(run)
    except RedisError as error:
        log.warning("stale-run check for run %s skipped: Redis unreachable (%s)", run.id,
                    type(error).__name__)
        return False, QUEUE_UNREACHABLE
    if reason is None:
        return False, None
    failed = finish_run(run.id, m.FAILED, reason=f"{reason} {NOTHING_CHANGED} {_try_again(run)}")
    db.session.expire(run)
    return failed, None
