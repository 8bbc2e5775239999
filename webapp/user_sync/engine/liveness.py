"""Is a run's worker still there? Its heartbeat in Redis, and what RQ saw of its job."""
import logging
import threading
from contextlib import contextmanager

from flask import current_app
from redis.exceptions import RedisError, ResponseError
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from webapp.clock import as_utc, utcnow
from webapp.redis_conn import get_redis, redis_key
from webapp.user_sync import models as m

JOB_GONE_STATES = {JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED}
log = logging.getLogger(__name__)


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
    age = (utcnow() - as_utc(run.started_at or run.created_at)).total_seconds()
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
