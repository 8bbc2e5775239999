"""Keeps school_run_facts true: each school's stored answers to engine.fleet's rules.

Whatever changes a run's status marks its school (changed(), or any SyncRun added or changed
through the ORM), and just before that transaction commits refresh() asks the rules again for
the marked schools and stores their answers, in the same transaction: the stored row and the
runs it describes are committed together or not at all.

Refreshed last, each school's row taken (inserted or locked) in id order by one statement: two
transactions changing runs of one school take turns (the second waits for the first's commit,
then asks the rules afresh, seeing its runs), and a transaction holding a school's row is only
committing, so it waits for nothing else. A savepoint's release refreshes nothing and its
rollback forgets nothing: only the transaction's own commit and rollback do.
"""
from sqlalchemy import event, inspect, select, update
from sqlalchemy.orm import Session

from webapp.extensions import db
from webapp.orgs.models import Organisation
from webapp.user_sync import models as m
from webapp.user_sync.engine.fleet import ASKED, FACTS, facts_from_runs
from webapp.user_sync.engine.store import chunks, insert_for

_CHANGED = "run_facts_changed"  # session.info key: ids of schools whose runs changed status
RULES_READ = ("status", "kind", "finished_at", "organisation_id")  # what fleet's rules read of a run


def changed(session, organisation_ids):
    """Marks schools whose runs' statuses this transaction changed (by SQL, not the ORM)."""
    session.info.setdefault(_CHANGED, set()).update(
        organisation_id for organisation_id in organisation_ids if organisation_id is not None)


def refresh(organisation_ids, session=None):
    """Stores the rules' answers for these schools, in the session's transaction (by default
    the app's)."""
    session = session or db.session
    insert = insert_for(session.get_bind())
    for part in chunks(sorted(set(organisation_ids))):
        # Inserted if missing, else locked (the no-op update), row by row in id order: taking
        # some first (the missing ones) and the rest after could wait in a circle with another
        # transaction's refresh.
        taken = insert(FACTS).from_select(["organisation_id"], select(Organisation.id).where(
            Organisation.id.in_(part)).order_by(Organisation.id))
        session.execute(taken.on_conflict_do_update(
            index_elements=[FACTS.c.organisation_id],
            set_={"organisation_id": taken.excluded.organisation_id}))
        # A statement of its own: it sees the runs of whoever held a row before this one did.
        session.execute(update(FACTS).where(FACTS.c.organisation_id.in_(part))
                        .values(**facts_from_runs(FACTS.c.organisation_id)))


def untrue_rows(session=None):
    """[(organisation id, stored, asked)] for every stored row that differs from what the rules
    answer now (none, while every status change goes through changed() or the ORM)."""
    session = session or db.session
    asked = facts_from_runs(FACTS.c.organisation_id)
    found = session.execute(select(FACTS.c.organisation_id, *(FACTS.c[name] for name in ASKED),
                                   *asked.values())).all()
    width = len(ASKED)
    return [(row[0], tuple(row[1:1 + width]), tuple(row[1 + width:])) for row in found
            if tuple(row[1:1 + width]) != tuple(row[1 + width:])]


def _fact_columns_changed(run):
    state = inspect(run)
    return any(state.attrs[name].history.has_changes() for name in RULES_READ)


@event.listens_for(Session, "before_flush")
def _mark_orm_changes(session, flush_context, instances):
    runs = [run for run in session.new | session.deleted if isinstance(run, m.SyncRun)]
    runs += [run for run in session.dirty if isinstance(run, m.SyncRun) and _fact_columns_changed(run)]
    if runs:
        changed(session, (run.organisation_id for run in runs))


@event.listens_for(Session, "before_commit")
def _refresh_changed(session):
    if session.in_nested_transaction():  # a savepoint released: the commit comes later
        return
    session.flush()  # the ORM's own changes first: they may mark more schools
    ids = session.info.pop(_CHANGED, None)
    if ids:
        refresh(ids, session)


@event.listens_for(Session, "after_soft_rollback")
def _forget_changes(session, previous_transaction):
    if previous_transaction.parent is None:  # the transaction itself, not a savepoint in it
        session.info.pop(_CHANGED, None)
