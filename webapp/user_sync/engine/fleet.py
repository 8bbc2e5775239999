"""What the runs of many schools say at once (the Schools page and the weekly digest): one
statement however many schools, never one per school, a few index probes per school
(ix_sync_runs_org_status_id) rather than a read of thirty days of history.

Per school: its last complete sync, the review waiting for an answer (queries.pending_review's
rule), the run holding its one-sync slot (queries.active_run's), its newest failed sync, and
since when it has been failing.

Failing: the newest sync that finished either way (complete or failed) failed; it has been
failing since the first failure after the last complete sync. A review or a cancelled review in
between changes neither.
"""
from dataclasses import dataclass

from sqlalchemy import and_, case, func, select

from webapp.extensions import db
from webapp.orgs.models import Organisation
from webapp.user_sync import models as m

RUNS = m.SyncRun.__table__


# What the facts keep of a run (plain rows, not ORM objects: a trust has thousands of runs).
RUN_COLUMNS = ("id", "organisation_id", "kind", "status", "phase", "fetched", "total", "reason",
               "finished_at", "added", "updated", "suspended", "reinstated")


@dataclass
class RunFacts:
    last_complete: object = None
    review: object = None
    active: object = None
    last_failed: object = None
    failing_since: object = None  # aware or naive UTC (SQLite) datetime, or None


def _newest(status, kind=m.KIND_SYNC, school=Organisation.id):
    """The id of the school's newest run in this status: one probe of
    ix_sync_runs_org_status_id per school, never a scan of its history."""
    runs = RUNS.alias(f"newest_{status}")
    found = select(runs.c.id).where(runs.c.organisation_id == school, runs.c.status == status)
    if kind is not None:
        found = found.where(runs.c.kind == kind)
    return found.order_by(runs.c.id.desc()).limit(1).scalar_subquery()


def _failing_since():
    """When the school's first failed sync after its newest complete one finished, or NULL."""
    failures = RUNS.alias("failures")
    return select(func.min(failures.c.finished_at)).where(
        failures.c.organisation_id == Organisation.id, failures.c.status == m.FAILED,
        failures.c.kind == m.KIND_SYNC,
        failures.c.id > func.coalesce(_newest(m.COMPLETE, school=failures.c.organisation_id),
                                      0)).scalar_subquery()


def _newest_ids(organisation_ids):
    """Per school: its newest complete sync, waiting review, active run and failed sync, and
    since when it has been failing."""
    active = RUNS.alias("active")
    return (select(Organisation.id.label("organisation_id"),
                   _newest(m.COMPLETE).label("complete_id"),
                   _newest(m.NEEDS_REVIEW, kind=None).label("review_id"),
                   select(active.c.id).where(active.c.active_slot == Organisation.id)
                   .scalar_subquery().label("active_id"),
                   _newest(m.FAILED).label("failed_id"),
                   _failing_since().label("failing_since"))
            .where(Organisation.id.in_(organisation_ids))
            # Computed once, then joined: inlined, PostgreSQL would probe each index twice.
            .cte("newest").prefix_with("MATERIALIZED", dialect="postgresql"))


# Each run the facts hold is the newest of its status, so its status says which fact it is.
FACT_OF_STATUS = {m.COMPLETE: "last_complete", m.NEEDS_REVIEW: "review", m.QUEUED: "active",
                  m.RUNNING: "active", m.FAILED: "last_failed"}


def run_facts_of(organisation_ids):
    """{organisation id: RunFacts}, each run a row of RUN_COLUMNS, in one statement;
    organisation_ids: a list, or a SELECT of ids."""
    newest = _newest_ids(organisation_ids)
    ids = [newest.c.complete_id, newest.c.review_id, newest.c.active_id, newest.c.failed_id]
    found = {}
    for row in db.session.execute(
            select(*(RUNS.c[name] for name in RUN_COLUMNS), newest.c.failing_since)
            .join(newest, RUNS.c.id.in_(ids))):
        facts = found.get(row.organisation_id)
        if facts is None:
            facts = found[row.organisation_id] = RunFacts(failing_since=row.failing_since)
        setattr(facts, FACT_OF_STATUS[row.status], row)
    return found


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
