"""A run's life: claiming the organisation's one sync slot, progress, outcome, stale-run sweep.

The slot is a unique column (sync_runs.active_slot = organisation id while a run is queued or
running), so two clicks, two tabs, two admins or two web processes can never start two syncs.
"""
import logging
import threading
import uuid
from contextlib import contextmanager
from datetime import timezone

from flask import current_app
from redis.exceptions import RedisError, ResponseError
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from webapp import audit
from webapp.audit import actions
from webapp.auth.models import utcnow
from webapp.errors import NotFound, ServiceError
from webapp.extensions import db
from webapp.microsoft.models import connection_for_organisation, group_choice_for
from webapp.redis_conn import enqueue, get_redis, redis_key
from webapp.user_sync import models as m
from webapp.user_sync.signals import announce_finished

RUNS = m.SyncRun.__table__
NOTHING_CHANGED = "Nothing was changed."
JOB_GONE_STATES = {JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED}
QUEUE_UNREACHABLE = ("The job queue (Redis) cannot be reached right now, so this page cannot tell "
                     "whether the sync is still running. It updates by itself when the queue is back.")
log = logging.getLogger(__name__)


def active_run(organisation_id):
    return db.session.scalar(select(m.SyncRun).where(m.SyncRun.active_slot == organisation_id))


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


def start_run(organisation, user, kind=m.KIND_SYNC, trigger=m.TRIGGER_MANUAL):
    """Queues a sync (or preview) for the organisation; returns (run, started_now).

    If one is already queued or running, that run is returned instead. trigger: an admin's
    Sync now, or the schedule's tick (whose claim commits with the run, see schedule.tick).
    """
    sweep_stale_runs(organisation.id)
    running = active_run(organisation.id)
    if running is not None:
        return running, False
    choice = group_choice_for(organisation)
    if connection_for_organisation(organisation) is None or choice is None:
        raise ServiceError("Connect to Microsoft and choose a group in Import settings first.")
    run = m.SyncRun(organisation_id=organisation.id, active_slot=organisation.id, kind=kind,
                    trigger=trigger, started_by_user_id=user.id if user else None, group_id=choice.group_id,
                    group_name=choice.display_name, rq_job_id=uuid.uuid4().hex)
    db.session.add(run)
    audit.record(actions.PREVIEW_STARTED if kind == m.KIND_PREVIEW else actions.SYNC_STARTED,
                 organisation.id, actor=user, after={"group": choice.display_name})
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return active_run(organisation.id), False
    if kind == m.KIND_SYNC:
        _supersede_reviews(organisation.id, run.id)
    _enqueue(run)
    return run, True


def _supersede_reviews(organisation_id, new_run_id):
    db.session.execute(update(RUNS).where(
        RUNS.c.organisation_id == organisation_id, RUNS.c.status == m.NEEDS_REVIEW,
        RUNS.c.id != new_run_id).values(status=m.CANCELLED, reason=(
            f"Replaced by a newer sync (run {new_run_id}). {NOTHING_CHANGED}")))
    db.session.commit()


def approve_review(organisation, run_id, user):
    """Apply removals: the reviewed run takes the slot again and a worker applies its plan."""
    get_run(organisation, run_id)  # another organisation's run is a 404, not a message
    # started_at restarts so the stale-run sweep times the wait for a worker from now.
    values = dict(status=m.QUEUED, active_slot=organisation.id, approved=True, started_at=utcnow(),
                  reviewed_by_user_id=user.id, phase="Waiting for a worker", rq_job_id=uuid.uuid4().hex)
    try:
        result = db.session.execute(update(RUNS).where(
            RUNS.c.id == run_id, RUNS.c.organisation_id == organisation.id,
            RUNS.c.status == m.NEEDS_REVIEW).values(**values))
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ServiceError("Another sync is running. Wait for it to finish, then review again.")
    if result.rowcount != 1:
        raise ServiceError("This review has already been answered or replaced by a newer sync.")
    audit.record(actions.REVIEW_APPROVED, organisation.id, actor=user, after={"run": run_id}, commit=True)
    run = db.session.get(m.SyncRun, run_id)
    db.session.refresh(run)
    _enqueue(run)
    return run


def cancel_review(organisation, run_id, user):
    get_run(organisation, run_id)
    result = db.session.execute(update(RUNS).where(
        RUNS.c.id == run_id, RUNS.c.organisation_id == organisation.id,
        RUNS.c.status == m.NEEDS_REVIEW).values(
            status=m.CANCELLED, reviewed_by_user_id=user.id, finished_at=utcnow(),
            reason=f"Cancelled by {user.email} after review. {NOTHING_CHANGED}"))
    db.session.commit()
    if result.rowcount != 1:
        raise ServiceError("This review has already been answered or replaced by a newer sync.")
    audit.record(actions.REVIEW_CANCELLED, organisation.id, actor=user, after={"run": run_id}, commit=True)


def _enqueue(run):
    try:  # the sync queue's time limit and TTLs come from JOB_* settings (README: Deploying)
        enqueue_run_job(run)
    except Exception as error:  # Redis unreachable: say so rather than leave a run queued forever
        finish_run(run.id, m.FAILED, reason=f"The sync could not be queued ({type(error).__name__}: "
                   "the job queue is unreachable). Try again in a minute; if it keeps "
                   f"happening, contact support. {NOTHING_CHANGED}")
        db.session.refresh(run)


def enqueue_run_job(run):
    """unique=True: the tick re-enqueues a queued run whose job Redis lost under the same id, so
    a job that still exists is never doubled (RQ raises DuplicateJobError instead)."""
    from jobs.sync import run_sync_job
    return enqueue("sync", run_sync_job, run.id, job_id=run.rq_job_id, unique=True,
                   description=f"sync run {run.id} of organisation {run.organisation_id}")


def mark_running(run_id, pid):
    result = db.session.execute(update(RUNS).where(RUNS.c.id == run_id, RUNS.c.status == m.QUEUED)
                                .values(status=m.RUNNING, started_at=utcnow(), worker_pid=pid,
                                        phase="Starting"))
    db.session.commit()
    return result.rowcount == 1


def report_progress(run_id, phase, fetched=None, total=None, fetched_at=None):
    """fetched_at: when the last page arrived, given once the fetch is complete."""
    values = {"phase": phase}
    if fetched_at is not None:
        values["fetched_at"] = fetched_at
    if fetched is not None:
        values["fetched"] = fetched
    if total is not None:
        values["total"] = total
    db.session.execute(update(RUNS).where(RUNS.c.id == run_id, RUNS.c.status == m.RUNNING)
                       .values(**values))
    db.session.commit()


def finish_values(status, reason=None, counts=None):
    values = {"status": status, "active_slot": None, "finished_at": utcnow(), "reason": reason,
              "phase": {m.COMPLETE: "Finished", m.NEEDS_REVIEW: "Waiting for review"}.get(status,
                                                                                           "Stopped")}
    values.update(counts or {})
    return values


def finish_run(run_id, status, reason=None, counts=None, only_if_active=True):
    """Ends a run in its own transaction; returns False if it had already ended."""
    stmt = update(RUNS).where(RUNS.c.id == run_id)
    if only_if_active:
        stmt = stmt.where(RUNS.c.status.in_(m.ACTIVE_STATES))
    result = db.session.execute(stmt.values(**finish_values(status, reason, counts)))
    db.session.commit()
    if result.rowcount == 1:
        announce_finished(run_id)
    return result.rowcount == 1


def claim_for_apply(run_id):
    """Inside the apply transaction: proves the run was not failed by a sweep meanwhile."""
    result = db.session.execute(update(RUNS).where(RUNS.c.id == run_id, RUNS.c.status == m.RUNNING)
                                .values(phase="Applying changes", applying_at=utcnow()))
    return result.rowcount == 1


# ----- liveness and the stale-run sweep -----

def _alive_key(run_id):
    return redis_key("sync-alive", run_id)


@contextmanager
def liveness(run_id, app=None):
    """While the block runs, a thread keeps a short-lived Redis key fresh. If the worker dies,
    the key expires and the next sweep fails the run. A Redis restart empties Redis: the thread
    keeps beating through the outage, so the key comes back with Redis."""
    app = app or current_app._get_current_object()
    seconds = app.config["SYNC_LIVENESS_SECONDS"]
    conn, key, stop = get_redis(app), _alive_key(run_id), threading.Event()
    conn.set(key, "1", px=int(seconds * 1000))

    def beat():
        while not stop.wait(seconds / 3):
            try:
                conn.set(key, "1", px=int(seconds * 1000))
            except RedisError as error:
                log.warning("sync run %s: liveness not recorded (%s); retrying", run_id,
                            type(error).__name__)
    thread = threading.Thread(target=beat, name=f"sync-{run_id}-liveness", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)
        try:
            conn.delete(key)
        except RedisError:
            pass  # it expires by itself


def _job(run, conn):
    try:
        return Job.fetch(run.rq_job_id, connection=conn) if run.rq_job_id else None
    except NoSuchJobError:
        return None


def redis_uptime(conn):
    """Seconds since Redis (re)started; a restart without persistence empties it."""
    try:
        return conn.info("server")["uptime_in_seconds"]
    except (ResponseError, KeyError):  # INFO disabled by the provider: assume a long uptime
        return float("inf")


def stale_reason(run):
    """Why an active run is dead, or None. The liveness key is the worker's word; the RQ job
    record adds what RQ saw. Raises RedisError when Redis cannot be asked."""
    conn, grace = get_redis(), current_app.config["SYNC_LIVENESS_SECONDS"]
    job = _job(run, conn)
    age = (utcnow() - _aware(run.started_at or run.created_at)).total_seconds()
    if job is not None and (job.get_status() in JOB_GONE_STATES
                            or (job.get_status() == JobStatus.FINISHED and run.is_active)):
        return "The worker running this sync stopped before it finished."
    if run.status == m.RUNNING:
        # Just after a Redis restart the key is missing until the worker's next beat.
        if age <= grace or conn.exists(_alive_key(run.id)) or redis_uptime(conn) <= grace:
            return None
        if job is None:
            return ("The job queue (Redis) was restarted during the sync and lost it, and the "
                    "worker running it stopped responding.")
        return "The worker running this sync stopped responding (it may have been restarted)."
    if job is None and age > grace:  # grace: the web side commits the run, then enqueues it
        return ("The sync job disappeared from the job queue before a worker started it (the "
                "queue may have been restarted).")
    return None


def _aware(moment):
    """SQLite hands back naive datetimes; every time we store is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def sweep_stale_runs(organisation_id):
    """Fails queued/running runs whose worker is gone. Called when a sync starts and when the
    screen polls, so a killed worker never leaves a run 'running' for ever. Returns a sentence
    for the admin when Redis cannot be reached (the run is then left as it is), else None."""
    run = active_run(organisation_id)
    if run is None:
        return None
    try:
        reason = stale_reason(run)
    except RedisError as error:
        log.warning("stale-run check for run %s skipped: Redis unreachable (%s)", run.id,
                    type(error).__name__)
        return QUEUE_UNREACHABLE
    if reason is not None:
        finish_run(run.id, m.FAILED, reason=f"{reason} {NOTHING_CHANGED} Press Sync now to try again.")
        db.session.expire(run)
    return None


def get_run(organisation, run_id):
    run = db.session.get(m.SyncRun, run_id)
    if run is None or run.organisation_id != organisation.id:
        raise NotFound("No such sync run.")
    return run

