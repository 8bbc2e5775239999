"""What the runs of many schools say at once (the Schools page and the weekly digest): one
statement however many schools, never one per school, one stored row a school
(school_run_facts, kept by engine.run_facts) rather than a read of thirty days of history.

Per school: its last complete sync, the review waiting for an answer (queries.pending_review's
rule), and since when it has been failing; and, with the runs of a shown row, the run holding
its one-sync slot (queries.active_run's).

Failing: the newest sync that finished either way (complete or failed) failed; it has been
failing since the first failure after the last complete sync. A review or a cancelled review in
between changes neither.

The rules are facts_from_runs: a few index probes of sync_runs per school
(ix_sync_runs_org_status_kind_id). Asked for hundreds of schools on every view of the Schools
page they were most of its time, so run_facts.refresh stores their answers per school whenever
a run's status changes, and the page reads those rows.

In two steps: with_run_facts adds every school's run ids, last sync time and failing date (all
a Status and the sorts need) to the statement that reads the schools, and load_runs reads the
runs themselves only for the schools whose rows are shown: a trust of 500 schools reads 500
narrow rows and fifty schools' runs, not 500 schools' runs.
"""
from dataclasses import dataclass

from sqlalchemy import and_, case, func, or_, select

from webapp.extensions import db
from webapp.orgs.models import Organisation
from webapp.sql_lists import one_of
from webapp.user_sync import models as m

RUNS = m.SyncRun.__table__


# What a loaded run keeps (plain rows, not ORM objects: a trust has thousands of runs).
RUN_COLUMNS = ("id", "organisation_id", "kind", "status", "phase", "fetched", "total", "reason",
               "finished_at", "added", "updated", "suspended", "reinstated", "active_slot")


class RunsNotLoaded(RuntimeError):
    """A run was asked of RunFacts before load_runs: a caller forgot a step (never a blank)."""


@dataclass
class RunFacts:
    organisation_id: int = None
    complete_id: int = None
    review_id: int = None
    active_id: int = None  # found by load_runs: only a shown row says what is running
    failing_since: object = None  # aware or naive UTC (SQLite) datetime, or None
    runs: dict = None  # {run id: row of RUN_COLUMNS} once load_runs has read them
    # The last complete sync's finish (aware or naive UTC datetime, None: never synced).
    complete_finished_at: object = None

    @property
    def last_sync_at(self):
        return self.complete_finished_at

    def _run(self, run_id):
        if run_id is None:
            return None
        if self.runs is None:
            raise RunsNotLoaded("load_runs(...) before reading a school's runs")
        return self.runs.get(run_id)  # None only if its school was deleted in between

    @property
    def last_complete(self):
        return self._run(self.complete_id)

    @property
    def review(self):
        return self._run(self.review_id)

    @property
    def active(self):
        if self.runs is None:  # no active_id yet is not "nothing running"
            raise RunsNotLoaded("load_runs(...) before reading a school's runs")
        return self._run(self.active_id)

    @property
    def run_ids(self):
        return [run_id for run_id in (self.complete_id, self.review_id, self.active_id)
                if run_id is not None]


# Made once: an alias of sync_runs makes its thirty columns again each time it is made.
_NEWEST = {status: RUNS.alias(f"newest_{status}") for status in (m.COMPLETE, m.NEEDS_REVIEW)}
_FAILURES = RUNS.alias("failures")
FACTS = m.SchoolRunFacts.__table__
# The facts a school's runs give, in the order a with_run_facts row ends with them.
FACT_NAMES = ("complete_id", "complete_finished_at", "review_id", "failing_since")


def _newest(status, school, kind=m.KIND_SYNC, column="id"):
    """The `column` of the school's newest run in this status: one probe of
    ix_sync_runs_org_status_kind_id per school, never a scan of its history. school: the
    column holding the school's id in the statement it goes in."""
    runs = _NEWEST[status]
    found = select(runs.c[column]).where(runs.c.organisation_id == school, runs.c.status == status)
    if kind is not None:
        found = found.where(runs.c.kind == kind)
    # Correlated by name: inside _failing_since it is two levels down, where SQLAlchemy would
    # otherwise read the school's table afresh (every school's runs) instead of this school's.
    return found.order_by(runs.c.id.desc()).limit(1).correlate(school.table).scalar_subquery()


def _failing_since(school):
    """When the school's first failed sync after its newest complete one finished; None: not
    failing (no failure since, so the newest sync that finished did not fail)."""
    return select(func.min(_FAILURES.c.finished_at)).where(
        _FAILURES.c.organisation_id == school, _FAILURES.c.status == m.FAILED,
        _FAILURES.c.kind == m.KIND_SYNC,
        _FAILURES.c.id > func.coalesce(_newest(m.COMPLETE, school), 0)).scalar_subquery()


def _last_success(school):
    """When the school's latest complete sync finished (the 48-hour rule's question: one
    index-only probe of ix_sync_runs_org_status_kind_finished)."""
    return select(func.max(RUNS.c.finished_at)).where(
        RUNS.c.organisation_id == school, RUNS.c.status == m.COMPLETE,
        RUNS.c.kind == m.KIND_SYNC).correlate(school.table).scalar_subquery()


# The rules themselves: each fact of the school whose id is in the column `school`, asked of
# sync_runs (run_facts.refresh stores their answers; a school with no stored row is answered by
# them directly).
ASKED = {"complete_id": lambda school: _newest(m.COMPLETE, school),
         "complete_finished_at": lambda school: _newest(m.COMPLETE, school, column="finished_at"),
         "review_id": lambda school: _newest(m.NEEDS_REVIEW, school, kind=None),
         "failing_since": _failing_since,
         "last_success_at": _last_success}


def facts_from_runs(school):
    """{fact name: the rule's expression} for the school in the column `school`."""
    return {name: rule(school) for name, rule in ASKED.items()}


def join_stored_facts(schools, school=Organisation.id):
    """schools: a SELECT of one row per school; the same with each school's stored row joined
    (stored_fact reads it)."""
    return schools.outerjoin(FACTS, FACTS.c.organisation_id == school)


def stored_fact(name, school=Organisation.id):
    """One fact of the school in the column `school`, in a statement that joined the stored
    rows: its stored row's, or for a school without one, the rule asked of sync_runs (only for
    that school: a CASE evaluates the branch it takes)."""
    return case((FACTS.c.organisation_id.is_not(None), FACTS.c[name]), else_=ASKED[name](school))


def with_run_facts(schools):
    """schools: a SELECT of one row per school, FROM organisations. The same rows, in one
    statement, each followed by the school's RunFacts columns (run_facts_from reads them; runs
    not loaded: load_runs)."""
    return join_stored_facts(schools).add_columns(
        *(stored_fact(name).label(name) for name in FACT_NAMES))


def facts_of(organisation_id):
    """One school's RunFacts (the Manage user sync card), by the Schools page's own rules."""
    row = db.session.execute(with_run_facts(
        select(Organisation.id).where(Organisation.id == organisation_id))).one()
    return run_facts_from(row, organisation_id)


def run_facts_from(row, organisation_id):
    """The RunFacts at the end of a with_run_facts row (read by position: a Row's attributes
    cost about a microsecond each, over hundreds of schools)."""
    complete_id, complete_finished_at, review_id, failing_since = row[-4:]
    return RunFacts(organisation_id=organisation_id, complete_id=complete_id,
                    review_id=review_id, failing_since=failing_since,
                    complete_finished_at=complete_finished_at)


def load_runs(all_facts):
    """Reads the runs these RunFacts name, and the run holding each school's one-sync slot, in
    one statement, for those not yet loaded."""
    waiting = [facts for facts in all_facts if facts.runs is None]
    wanted = [run_id for facts in waiting for run_id in facts.run_ids]
    schools = [facts.organisation_id for facts in waiting if facts.organisation_id is not None]
    found, holding_slot = {}, {}
    if wanted or schools:
        for row in db.session.execute(select(*(RUNS.c[name] for name in RUN_COLUMNS)).where(
                or_(one_of(RUNS.c.id, wanted), one_of(RUNS.c.active_slot, schools)))):
            found[row.id] = row
            if row.active_slot is not None:
                holding_slot[row.active_slot] = row.id
    for facts in waiting:
        facts.active_id = holding_slot.get(facts.organisation_id)
        facts.runs = {run_id: found.get(run_id) for run_id in facts.run_ids}
    return all_facts


def week_counts_of(organisation_ids, start, end):
    """{organisation id: (joiners, leavers, failed syncs)} for runs that finished in
    [start, end): joiners are people added or reinstated, leavers people suspended, by any run
    that changes people (a Sync this person now's joiner, an undo's reinstated people too);
    failed syncs are full syncs, as for Failing."""
    finished = and_(RUNS.c.finished_at >= start, RUNS.c.finished_at < end)
    complete = RUNS.c.status == m.COMPLETE
    failed = and_(RUNS.c.status == m.FAILED, RUNS.c.kind == m.KIND_SYNC)
    rows = db.session.execute(
        select(RUNS.c.organisation_id,
               func.sum(case((complete, RUNS.c.added + RUNS.c.reinstated), else_=0)),
               func.sum(case((complete, RUNS.c.suspended), else_=0)),
               func.sum(case((failed, 1), else_=0)))
        .where(RUNS.c.organisation_id.in_(organisation_ids),
               RUNS.c.kind.in_(m.CHANGING_KINDS), finished)
        .group_by(RUNS.c.organisation_id))
    return {organisation_id: (int(joiners or 0), int(leavers or 0), int(failed or 0))
            for organisation_id, joiners, leavers, failed in rows}
