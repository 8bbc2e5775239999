"""What the runs of many schools say at once (the Schools page and the weekly digest): two
statements however many schools, never one per school.

Per school: its last complete sync, the review waiting for an answer (queries.pending_review's
rule), the run holding its one-sync slot (queries.active_run's), its newest failed sync, and
since when it has been failing.

Failing: the newest sync that finished either way (complete or failed) failed; it has been
failing since the first failure after the last complete sync. A review or a cancelled review in
between changes neither.
"""
from dataclasses import dataclass

from sqlalchemy import and_, case, func, or_, select

from webapp.extensions import db
from webapp.user_sync import models as m

RUNS = m.SyncRun.__table__


@dataclass
class RunFacts:
    last_complete: object = None
    review: object = None
    active: object = None
    last_failed: object = None
    failing_since: object = None  # aware or naive UTC (SQLite) datetime, or None


def _newest(condition):
    return func.max(case((condition, RUNS.c.id), else_=None))


def run_facts_of(organisation_ids):
    """{organisation id: RunFacts}; organisation_ids: a list, or a SELECT of ids."""
    sync = RUNS.c.kind == m.KIND_SYNC
    newest = (select(RUNS.c.organisation_id,
                     _newest(sync & (RUNS.c.status == m.COMPLETE)).label("complete_id"),
                     _newest(RUNS.c.status == m.NEEDS_REVIEW).label("review_id"),
                     _newest(RUNS.c.active_slot.is_not(None)).label("active_id"),
                     _newest(sync & (RUNS.c.status == m.FAILED)).label("failed_id"))
              .where(RUNS.c.organisation_id.in_(organisation_ids))
              .group_by(RUNS.c.organisation_id).subquery())
    roles = ("complete_id", "review_id", "active_id", "failed_id")
    found = {}
    for run, *ids in db.session.execute(
            select(m.SyncRun, *(newest.c[role] for role in roles))
            .join(newest, or_(*(m.SyncRun.id == newest.c[role] for role in roles)))):
        facts = found.setdefault(run.organisation_id, RunFacts())
        for role, role_id in zip(("last_complete", "review", "active", "last_failed"), ids):
            if role_id == run.id:
                setattr(facts, role, run)
    for organisation_id, since in _failing_since(organisation_ids):
        found.setdefault(organisation_id, RunFacts()).failing_since = since
    return found


def _failing_since(organisation_ids):
    """(organisation id, when its first failure after its last complete sync finished)."""
    later = m.SyncRun.__table__.alias("later")
    completed_after = select(later.c.id).where(
        later.c.organisation_id == RUNS.c.organisation_id, later.c.kind == m.KIND_SYNC,
        later.c.status == m.COMPLETE, later.c.id > RUNS.c.id).exists()
    return db.session.execute(
        select(RUNS.c.organisation_id, func.min(RUNS.c.finished_at))
        .where(RUNS.c.organisation_id.in_(organisation_ids), RUNS.c.kind == m.KIND_SYNC,
               RUNS.c.status == m.FAILED, ~completed_after)
        .group_by(RUNS.c.organisation_id)).all()


def week_counts_of(organisation_ids, start, end):
    """{organisation id: (joiners, leavers, failed syncs)} for syncs that finished in
    [start, end): joiners are people added or reinstated, leavers people suspended."""
    finished = and_(RUNS.c.finished_at >= start, RUNS.c.finished_at < end)
    complete = RUNS.c.status == m.COMPLETE
    rows = db.session.execute(
        select(RUNS.c.organisation_id,
               func.sum(case((complete, RUNS.c.added + RUNS.c.reinstated), else_=0)),
               func.sum(case((complete, RUNS.c.suspended), else_=0)),
               func.sum(case((RUNS.c.status == m.FAILED, 1), else_=0)))
        .where(RUNS.c.organisation_id.in_(organisation_ids), RUNS.c.kind == m.KIND_SYNC,
               finished).group_by(RUNS.c.organisation_id))
    return {organisation_id: (int(joiners or 0), int(leavers or 0), int(failed or 0))
            for organisation_id, joiners, leavers, failed in rows}
