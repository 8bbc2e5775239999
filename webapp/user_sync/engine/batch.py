"""Starting many runs at once (Sync now on the Schools page; the schedule's tick inserts its own
with queued_runs and enqueues them here): a few statements, one transaction, one Redis round
trip for every job, where one school's Sync now (lifecycle.start_run) takes a commit and a
Redis call of its own.
"""
from redis.exceptions import RedisError

from webapp.extensions import db
from webapp.redis_conn import enqueue_many
from webapp.user_sync import models as m
from webapp.user_sync.engine import lifecycle
from webapp.user_sync.engine.lifecycle import RUN_JOB, run_job_args, run_job_description
from webapp.user_sync.engine.queries import active_slots


def start_manual_runs(selections, user):
    """Sync now for many schools at once, by `user`: the one-sync-per-school rule of
    `lifecycle.start_run` for each (a dead run is failed first, a running one is joined, not
    doubled; a waiting review is replaced: lifecycle.queue_manual_syncs), committed in one
    transaction, then one pipeline.
    Returns (started {organisation_id: (run_id, job_id)}, not_queued {organisation_id: reason})
    for the schools whose run was recorded but could not be put in the queue."""
    for organisation_id in sorted(active_slots(selections)):
        lifecycle.sweep_stale_runs(organisation_id)
    started = lifecycle.queue_manual_syncs(selections, user)
    db.session.commit()
    if not started:
        return started, {}
    try:
        enqueue_run_jobs(started)
    except RedisError as error:
        reason = lifecycle.not_queued_reason(error)
        for run_id, _ in started.values():
            lifecycle.finish_run(run_id, m.FAILED, reason=reason)
        return {}, dict.fromkeys(started, reason)
    return started, {}


def enqueue_run_jobs(started, as_of=None):
    """After the commit: every new run's job in one pipeline. If Redis refuses, the runs stay
    queued and the next tick's requeue_lost_runs enqueues them under the same job ids.
    as_of: the moment a tick run `--as-of` stood at; its syncs run from it."""
    return enqueue_many("sync", [
        (RUN_JOB, run_job_args(run_id, as_of), job_id,
         run_job_description(run_id, organisation_id))
        for organisation_id, (run_id, job_id) in started.items()])
