"""Each school's stored run facts (what the Schools page reads instead of asking sync_runs four
questions per school) are what the rules answer, however a run's status changes: every test's
teardown also compares them for every school it touched (tests/conftest.py)."""
from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from tests.sync.races import in_a_thread_of_its_own, wait_for_waiters
from tests.sync_helpers import lose_job_and_sweep, sync_in_process
from tests.trust.helpers import NOW, run, schedule
from webapp.extensions import db
from webapp.microsoft.selection import saved_selection
from webapp.orgs.models import Organisation
from webapp.schedule.health import no_recent_success
from webapp.schedule.models import SyncSchedule
from webapp.user_sync import models as m
from webapp.user_sync.engine import batch, fleet, lifecycle, run_facts


def stored(organisation_id):
    db.session.expire_all()
    return db.session.get(m.SchoolRunFacts, organisation_id)


@pytest.mark.both_databases
def test_each_way_a_run_ends_stores_what_the_rules_answer(school):
    org_id = school.org.id
    complete = sync_in_process(school)
    facts = stored(org_id)
    assert facts is not None and facts.complete_id == complete.id
    assert facts.complete_finished_at == facts.last_success_at == complete.finished_at
    assert facts.failing_since is None and facts.review_id is None

    started, _ = lifecycle.start_run(school.org, school.admin)
    failed = lose_job_and_sweep(started)  # failed by the sweep, a status changed by SQL
    assert failed.status == m.FAILED
    assert stored(org_id).failing_since == failed.finished_at

    review = run(school.org, m.NEEDS_REVIEW, NOW, suspended=9)  # through the ORM
    db.session.commit()
    assert stored(org_id).review_id == review.id
    batch.start_manual_runs({org_id: saved_selection(school.org)}, school.admin)
    db.session.commit()  # Sync now replaced the review (one UPDATE for every school)
    assert stored(org_id).review_id is None
    assert run_facts.untrue_rows() == []


@pytest.mark.both_databases
def test_a_school_without_a_stored_row_is_answered_from_its_runs(factory):
    school = factory.organisation("Ash Academy", "Ash Trust")
    last = run(school, m.COMPLETE, NOW - timedelta(days=1))
    failure = run(school, m.FAILED, NOW - timedelta(hours=3))
    db.session.commit()
    schedule(school, enabled_at=NOW - timedelta(days=30))
    db.session.commit()
    kept, kept_stale = fleet.facts_of(school.id), (stale_on(NOW), stale_on(NOW + timedelta(days=2)))
    db.session.execute(delete(fleet.FACTS))  # as after the migration, before its next run
    db.session.commit()
    asked = fleet.facts_of(school.id)
    assert (asked.complete_id, asked.review_id) == (kept.complete_id, kept.review_id) == (last.id, None)
    assert asked.failing_since == kept.failing_since == failure.finished_at
    assert asked.last_sync_at == kept.last_sync_at == last.finished_at
    # The 48-hour rule (the Schools page's and the mail's) answers the same either way.
    assert (stale_on(NOW), stale_on(NOW + timedelta(days=2))) == kept_stale == (False, True)


def stale_on(now):
    return bool(db.session.scalars(fleet.join_stored_facts(
        select(SyncSchedule.organisation_id), SyncSchedule.organisation_id)
        .where(no_recent_success(now))).all())


@pytest.mark.backends("postgresql")  # row locks: SQLite has one writer at a time
def test_two_transactions_ending_runs_of_one_school_both_count(app, factory):
    """The second waits for the first's commit and then asks the rules afresh: had it answered
    from what it saw before waiting, the first's complete run would be missing."""
    school = factory.organisation("Ash Academy", "Ash Trust")
    run(school, m.COMPLETE, NOW - timedelta(days=1))
    db.session.commit()
    newer = run(school, m.COMPLETE, NOW - timedelta(hours=2))
    db.session.flush()
    run_facts.refresh([school.id])  # stored, and the row held until this transaction commits
    outcome = {}

    def end_a_failed_run():
        run(db.session.get(Organisation, school.id), m.FAILED, NOW - timedelta(hours=1))
        db.session.commit()
    thread = in_a_thread_of_its_own(app, end_a_failed_run, outcome, "failed")
    wait_for_waiters(1, thread)
    db.session.commit()
    thread.join(30)
    assert outcome["failed"] is None
    facts = stored(school.id)
    failed = db.session.scalar(select(m.SyncRun).where(m.SyncRun.status == m.FAILED))
    assert facts.complete_id == newer.id and failed.id > newer.id
    assert facts.failing_since == failed.finished_at
    assert run_facts.untrue_rows() == []


def review_replaced_uncommitted(factory):
    """A school whose stored review this transaction has just replaced (by SQL, not committed);
    (the school, the review)."""
    school = factory.organisation("Ash Academy", "Ash Trust")
    review = run(school, m.NEEDS_REVIEW, NOW)
    db.session.commit()
    assert stored(school.id).review_id == review.id
    lifecycle.replace_waiting_reviews({school.id: "Replaced by a newer sync."})
    return school, review


@pytest.mark.both_databases
def test_a_savepoint_rolled_back_keeps_what_the_transaction_changed_before_it(factory):
    """As when a sync's new accounts meet a taken address (store.insert_new_users)."""
    school, _ = review_replaced_uncommitted(factory)
    db.session.begin_nested().rollback()
    db.session.commit()
    assert stored(school.id).review_id is None
    assert run_facts.untrue_rows() == []


@pytest.mark.both_databases
def test_a_savepoint_released_stores_nothing_until_the_transaction_commits(factory):
    """Stored (and its row locked) only as the transaction commits, never halfway through."""
    school, review = review_replaced_uncommitted(factory)
    with db.session.begin_nested():
        pass
    assert db.session.scalar(select(fleet.FACTS.c.review_id)) == review.id
    db.session.commit()
    assert stored(school.id).review_id is None


@pytest.mark.both_databases
def test_a_run_changed_through_the_orm_in_any_column_the_rules_read_is_stored(factory):
    school = factory.organisation("Ash Academy", "Ash Trust")
    complete = run(school, m.COMPLETE, NOW)
    complete.kind = m.KIND_PREVIEW
    db.session.commit()
    assert stored(school.id).complete_id is None
    complete.kind = m.KIND_SYNC
    db.session.commit()
    assert stored(school.id).complete_id == complete.id


@pytest.mark.backends("postgresql")  # row locks: SQLite has one writer at a time
def test_two_refreshes_of_overlapping_schools_take_their_rows_in_one_order(app, factory):
    """One school with a stored row, one without (new); a refresh holding the first, then
    taking the second (as its next chunk would), while another transaction ends runs of both:
    the other waits for it, never the two for each other (PostgreSQL fails one as a deadlock)."""
    first = factory.organisation("Ash Academy", "Ash Trust")
    second = factory.organisation("Beech Academy", "Ash Trust")
    run(first, m.COMPLETE, NOW - timedelta(days=1))
    db.session.commit()
    first.name = "Ash Academy (renamed)"  # its row now comes after the second's in the table
    db.session.commit()
    run(first, m.COMPLETE, NOW - timedelta(hours=3))
    db.session.flush()
    run_facts.refresh([first.id])
    outcome = {}

    def end_runs_of_both():
        for school_id in (first.id, second.id):
            run(db.session.get(Organisation, school_id), m.FAILED, NOW - timedelta(hours=1))
        db.session.commit()
    thread = in_a_thread_of_its_own(app, end_runs_of_both, outcome, "both")
    wait_for_waiters(1, thread)
    last = run(second, m.COMPLETE, NOW - timedelta(hours=2))
    db.session.flush()
    run_facts.refresh([second.id])
    db.session.commit()
    thread.join(30)
    assert outcome["both"] is None
    assert run_facts.untrue_rows() == []
    assert stored(first.id).failing_since is not None  # its failure came after its last sync
    assert stored(second.id).complete_id == last.id
