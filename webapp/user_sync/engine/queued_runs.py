"""Building queued runs, one way for every caller: a school's Sync now or preview
(lifecycle.start_run, a batch of one), the schedule's tick and Sync now on the Schools page (many
at once, batch.py), and the quick runs (Sync this person now, Undo this sync: run_row only).

Nothing here commits: the runs go in with the caller's transaction (the tick's claim of its
schools, say). The unique active_slot decides who runs: a school whose slot is taken (a sync
already queued or running) gets no second run, the insert skips it.
"""
import uuid

from sqlalchemy import select

from webapp import audit
from webapp.audit import actions
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.user_sync import models as m
from webapp.user_sync.engine.store import chunks, insert_for

RUNS = m.SyncRun.__table__
STARTED_ACTION = {m.KIND_SYNC: actions.SYNC_STARTED, m.KIND_PREVIEW: actions.PREVIEW_STARTED}


def run_row(organisation_id, group_columns, kind=m.KIND_SYNC, trigger=m.TRIGGER_MANUAL,
            started_by=None, now=None, **extra):
    """A queued run holding the school's one-sync slot. group_columns: Selection.run_columns()
    (or a run's own, for its undo); extra: a quick run's subject or the run it undoes."""
    return {"organisation_id": organisation_id, "active_slot": organisation_id, "kind": kind,
            "trigger": trigger, "status": m.QUEUED,
            "started_by_user_id": started_by.id if started_by else None,
            "rq_job_id": uuid.uuid4().hex, "created_at": now or utcnow(),
            **group_columns, **extra}


def insert_queued_runs(selections, kind=m.KIND_SYNC, trigger=m.TRIGGER_AUTOMATIC,
                       started_by=None):
    """selections: {organisation_id: microsoft.selection.Selection}, each with a synced group.
    Adds a queued run (a sync, or a preview) for every organisation whose slot is free, and its
    audit entry, in the caller's transaction. started_by: the admin who pressed the button.
    Returns {organisation_id: (run_id, rq_job_id)}; organisations left out had a run already."""
    if not selections:
        return {}
    now = utcnow()
    rows = [run_row(organisation_id, selection.run_columns(), kind, trigger, started_by, now)
            for organisation_id, selection in selections.items()]
    started = insert_runs(rows)
    group_names = {row["organisation_id"]: row["group_name"] for row in rows}
    audit.record_many(STARTED_ACTION[kind], [
        {"organisation_id": organisation_id, "after": {"group": group_names[organisation_id]}}
        for organisation_id in started], actor=started_by)
    return started


def insert_runs(rows):
    """run_rows in, skipping any whose school's slot is taken; {organisation_id: (run_id,
    rq_job_id)} of those that went in.

    In ascending organisation id, whoever calls: a slot another transaction has just taken
    makes the insert wait for it, so two inserts (two admins' Sync now on the Schools page, or
    that and the tick) taking the same slots in different orders could each wait for the other
    (PostgreSQL then fails one as a deadlock)."""
    rows = sorted(rows, key=lambda row: row["organisation_id"])
    insert = insert_for(db.session.get_bind())
    # A plain executemany (the driver sends one statement, many parameter sets) then one read
    # of what went in: cheaper than a RETURNING insert, which becomes one huge statement.
    db.session.execute(insert(RUNS).on_conflict_do_nothing(), rows)
    job_ids = [row["rq_job_id"] for row in rows]
    return {row.organisation_id: (row.id, row.rq_job_id) for part in chunks(job_ids)
            for row in db.session.execute(select(RUNS.c.organisation_id, RUNS.c.id,
                                                 RUNS.c.rq_job_id)
                                          .where(RUNS.c.rq_job_id.in_(part)))}
