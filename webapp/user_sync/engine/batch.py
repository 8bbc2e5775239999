"""Queueing many runs at once (the schedule's tick, Sync now on the Schools page): a few
statements, one transaction, one Redis round trip.

`start_run` queues one school's run with a commit and a Redis call each; a tick over 1,000 due
schools cannot afford that. Here the runs are inserted in bulk inside the caller's transaction
(so they commit together with the tick's claim of the schools) and, after the commit, their jobs
go to Redis in one pipeline. The unique active_slot still decides: a school whose slot was
taken meanwhile (a Sync now) gets no second run, the insert skips it.
"""
import uuid

from redis.exceptions import RedisError
from sqlalchemy import case, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite

from webapp import audit
from webapp.audit import actions
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.redis_conn import enqueue_many
from webapp.user_sync import models as m
from webapp.user_sync.engine import lifecycle
from webapp.user_sync.engine.lifecycle import RUN_JOB, run_job_args, run_job_description
from webapp.user_sync.engine.queries import active_slots
from webapp.user_sync.engine.store import chunks

RUNS = m.SyncRun.__table__
INSERT_FOR_DIALECT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def insert_queued_runs(selections, trigger=m.TRIGGER_AUTOMATIC, started_by=None):
    """selections: {organisation_id: microsoft.selection.Selection}, each with a synced group.
    Adds a queued sync run for every organisation whose slot is free, in the caller's
    transaction (nothing is committed here). started_by: the admin who pressed Sync now.
    Returns {organisation_id: (run_id, rq_job_id)}; organisations left out had a run already."""
    if not selections:
        return {}
    now = utcnow()
    rows = [{"organisation_id": organisation_id, "active_slot": organisation_id,
             "kind": m.KIND_SYNC, "trigger": trigger, "status": m.QUEUED,
             "started_by_user_id": started_by.id if started_by else None,
             **selection.run_columns(), "rq_job_id": uuid.uuid4().hex, "created_at": now}
            for organisation_id, selection in selections.items()]
    insert = INSERT_FOR_DIALECT[db.session.get_bind().dialect.name]
    # A plain executemany (the driver sends one statement, many parameter sets) then one read
    # of what went in: cheaper than a RETURNING insert, which becomes one huge statement.
    db.session.execute(insert(RUNS).on_conflict_do_nothing(), rows)
    job_ids = [row["rq_job_id"] for row in rows]
    started = {row.organisation_id: (row.id, row.rq_job_id) for part in chunks(job_ids)
               for row in db.session.execute(select(RUNS.c.organisation_id, RUNS.c.id,
                                                    RUNS.c.rq_job_id)
                                             .where(RUNS.c.rq_job_id.in_(part)))}
    group_names = {row["organisation_id"]: row["group_name"] for row in rows}
    audit.record_many(actions.SYNC_STARTED, [
        {"organisation_id": organisation_id, "after": {"group": group_names[organisation_id]}}
        for organisation_id in started], actor=started_by)
    return started


def start_manual_runs(selections, user):
    """Sync now for many schools at once, by `user`: the one-sync-per-school rule of
    `lifecycle.start_run` for each (a dead run is failed first, a running one is joined, not
    doubled; a waiting review is replaced), committed in one transaction, then one pipeline.
    Returns (started {organisation_id: (run_id, job_id)}, not_queued {organisation_id: reason})
    for the schools whose run was recorded but could not be put in the queue."""
    for organisation_id in sorted(active_slots(selections)):
        lifecycle.sweep_stale_runs(organisation_id)
    started = insert_queued_runs(selections, m.TRIGGER_MANUAL, started_by=user)
    _supersede_reviews(started)
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


def _supersede_reviews(started):
    """One UPDATE for every school that started: its waiting review names the run replacing it."""
    for part in chunks(started, 300):  # three parameters a school
        new_run = case({organisation_id: literal(lifecycle.superseded_reason(started[organisation_id][0]))
                        for organisation_id in part}, value=RUNS.c.organisation_id)
        db.session.execute(update(RUNS).where(
            RUNS.c.organisation_id.in_(part), RUNS.c.status == m.NEEDS_REVIEW)
            .values(status=m.CANCELLED, reason=new_run))


def enqueue_run_jobs(started, as_of=None):
    """After the commit: every new run's job in one pipeline. If Redis refuses, the runs stay
    queued and the next tick's requeue_lost_runs enqueues them under the same job ids.
    as_of: the moment a tick run `--as-of` stood at; its syncs run from it."""
    return enqueue_many("sync", [
        (RUN_JOB, run_job_args(run_id, as_of), job_id,
         run_job_description(run_id, organisation_id))
        for organisation_id, (run_id, job_id) in started.items()])
