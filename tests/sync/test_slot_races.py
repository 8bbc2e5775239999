"""Two bulk starts of runs over the same schools at the same moment (two admins' Sync now on the
Schools page, or that and the schedule's tick): each school gets exactly one run, and neither
meets a database deadlock, whatever order each was given the schools in.

A run's insert waits for another transaction's uncommitted run of the same school (the unique
active_slot), so two inserts taking the same slots in different orders would each wait for the
other; so would two transactions locking the same schedules in different orders (the tick's
claim, Sync now ending an undo's pause). The overlap is made certain by the database: the test
holds a row the first start needs (the schools', so each insert stops at its first run's
foreign key check with that run's slot taken but not committed; or a schedule), the second
start is made then, and the lock goes.
"""
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from tests.microsoft_flow import demo
from tests.schedule_helpers import save_schedule
from tests.sync.races import in_a_thread_of_its_own, wait_for_waiters
from tests.sync_helpers import NORTHFIELD
from webapp.auth.models import User
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.microsoft.selection import GroupChoice, saved_selections
from webapp.schedule import tick
from webapp.schedule.models import SyncSchedule
from webapp.user_sync import models as m
from webapp.user_sync.engine import batch

pytestmark = pytest.mark.backends("postgresql")  # row locks: SQLite has one writer at a time


@pytest.fixture
def two_schools(school):
    """Northfield and Southfield, both syncing Northfield Staff every hour, Northfield due
    first: the tick takes them in the order they fell due, the lower id first."""
    save_schedule(school, "1h")
    south = school.oak.south
    db.session.add(GroupChoice(organisation_id=south.id, group_id=NORTHFIELD,
                               display_name="Northfield Staff", kind="security"))
    db.session.add(SyncSchedule(organisation_id=south.id, frequency="1h", failures=0))
    db.session.commit()
    school.as_of = utcnow()
    for org, late in ((school.org, 2), (south, 1)):
        db.session.execute(SyncSchedule.__table__.update().where(
            SyncSchedule.organisation_id == org.id).values(
                next_due_at=school.as_of - timedelta(hours=late),
                enabled_at=school.as_of - timedelta(hours=3)))
    db.session.commit()
    school.ids = sorted((school.org.id, south.id))
    return school


def sync_now_on_the_schools_page(school, ids):
    """The admin's Sync now with the schools in the order the form sent them."""
    def press():
        selections = saved_selections(ids)
        started, _ = batch.start_manual_runs({org_id: selections[org_id] for org_id in ids},
                                             db.session.get(User, school.admin.id))
        return sorted(started)
    return press


def the_tick(school):
    def run():
        return sorted(line.organisation_id for line in tick.tick(school.as_of)
                      if line.action == tick.QUEUED)
    return run


def queued_runs_per_school():
    db.session.expire_all()
    return dict(db.session.execute(select(m.SyncRun.organisation_id, func.count()).where(
        m.SyncRun.status == m.QUEUED).group_by(m.SyncRun.organisation_id)).all())


@pytest.mark.parametrize("second", ["another admin on the Schools page", "the tick"])
def test_two_starts_over_the_same_schools_in_opposite_orders_queue_each_once(
        app, two_schools, second):
    school, ids = two_schools, two_schools.ids
    first = sync_now_on_the_schools_page(school, ids[::-1])  # the higher id first
    other = (sync_now_on_the_schools_page(school, ids) if second.startswith("another")
             else the_tick(school))  # the lower id first
    outcome = {}
    db.session.execute(text("SELECT id FROM organisations WHERE id IN (:a, :b) FOR UPDATE"),
                       {"a": ids[0], "b": ids[1]})
    threads = [in_a_thread_of_its_own(app, first, outcome, "first")]
    try:
        wait_for_waiters(1, *threads)  # its first run inserted, at that run's foreign key check
        threads.append(in_a_thread_of_its_own(app, other, outcome, "second"))
        wait_for_waiters(2, *threads)
    finally:
        db.session.rollback()  # the schools' locks go: both carry on
        for thread in threads:
            thread.join(timeout=30)

    assert outcome == {"first": ids, "second": []}, outcome
    assert queued_runs_per_school() == dict.fromkeys(ids, 1)


def paused_by_undos_higher_id_first_in_the_table(school_ids):
    """Both schools' automatic sync paused as an undo leaves it; the lower id's schedule written
    last, with a new next_due_at (an indexed column, so its new version goes at the end of the
    table): a plain UPDATE of both then meets the higher id first. Returns the schedule ids."""
    schedule_ids = {}
    for org_id in sorted(school_ids, reverse=True):
        schedule_ids[org_id] = db.session.scalar(SyncSchedule.__table__.update().where(
            SyncSchedule.organisation_id == org_id).values(
                paused_at=utcnow(), next_due_at=SyncSchedule.next_due_at - timedelta(minutes=1))
            .returning(SyncSchedule.id))
        db.session.commit()
    return [schedule_ids[org_id] for org_id in sorted(school_ids)]


def test_the_tick_and_sync_now_over_two_schools_an_undo_paused_queue_each_once(app, two_schools):
    """Sync now locks the schedules an undo paused (to end the pause) before it takes the
    slots; the tick claims every due schedule, paused or not, before it takes the slots. Both
    go in schedule id order, whatever order the table holds the rows in. The test holds the
    lower id's schedule: Sync now waits for it first, then the tick."""
    school, ids = two_schools, two_schools.ids
    schedule_ids = paused_by_undos_higher_id_first_in_the_table(ids)
    assert schedule_ids == sorted(schedule_ids)
    outcome = {}
    db.session.execute(text("SELECT id FROM sync_schedules WHERE id = :id FOR UPDATE"),
                       {"id": schedule_ids[0]})
    threads = [in_a_thread_of_its_own(app, sync_now_on_the_schools_page(school, ids), outcome,
                                      "sync now")]
    try:
        wait_for_waiters(1, *threads)
        threads.append(in_a_thread_of_its_own(app, the_tick(school), outcome, "tick"))
        wait_for_waiters(2, *threads)
    finally:
        db.session.rollback()  # the schedule's lock goes: both carry on
        for thread in threads:
            thread.join(timeout=30)

    # The tick read both schools as paused before it claimed them: it skipped them.
    assert outcome == {"sync now": ids, "tick": []}, outcome
    assert queued_runs_per_school() == dict.fromkeys(ids, 1)
    assert db.session.scalars(select(SyncSchedule.paused_at)).all() == [None, None]



# The tick's reads before it claims: the lost runs, the slots, the due schools, the reviews,
# the groups, the connections, the sweep's look at a held slot.
TICK_READS = range(2, 8)


@contextmanager
def after_the_ticks_read(number, happen):
    """happen() (committed by another session) right after the tick's number-th SELECT."""
    from sqlalchemy import event
    seen = {"reads": 0, "happened": False}

    def look(conn, cursor, statement, *_):
        if statement.lstrip().startswith("SELECT") and not seen["happened"]:
            seen["reads"] += 1
            if seen["reads"] == number:
                seen["happened"] = True
                happen()
    event.listen(db.engine, "after_cursor_execute", look)
    try:
        yield seen
    finally:
        event.remove(db.engine, "after_cursor_execute", look)


def due_now(school):
    as_of = utcnow()
    db.session.execute(SyncSchedule.__table__.update().where(
        SyncSchedule.organisation_id == school.org.id).values(
            next_due_at=as_of - timedelta(minutes=5), enabled_at=as_of - timedelta(hours=3)))
    db.session.commit()
    return as_of


@pytest.mark.parametrize("read", TICK_READS)
def test_a_sync_stopping_at_review_while_the_tick_reads_gets_no_automatic_run_after_it(
        app, school, read):
    """A Sync now that stops at a review between two of the tick's reads was in neither the
    slots nor the reviews it read (the reviews were read first): the tick queued an automatic
    run while the review waited. Made certain by committing the finish from another
    connection right after each read in turn."""
    from sqlalchemy import update
    from webapp.user_sync.engine import lifecycle
    save_schedule(school, "1h")
    as_of = due_now(school)
    run, started = lifecycle.start_run(school.org, school.admin)
    assert started

    def finish_at_review():
        with db.engine.begin() as other:
            other.execute(update(m.SyncRun.__table__).where(m.SyncRun.id == run.id).values(
                status=m.NEEDS_REVIEW, active_slot=None, finished_at=utcnow(),
                phase="Waiting for review"))

    with after_the_ticks_read(read, finish_at_review) as seen:
        [line] = [line for line in tick.tick(as_of) if line.organisation_id == school.org.id]
    assert seen["happened"]
    assert line.action == tick.SKIPPED, (line.action, line.reason)
    assert queued_runs_per_school().get(school.org.id) is None


@pytest.mark.parametrize("read", TICK_READS)
def test_an_undo_finishing_while_the_tick_reads_gets_no_automatic_run_after_it(
        app, school, read):
    """The tick read the due schools (with their pauses) and then the slots: an undo that
    finished in between was in neither, its pause unseen and its slot free, and the tick queued
    an automatic run that redid what was just undone, though the undo said automatic sync was
    paused. Made certain by running the undo to its end right after each read in turn."""
    from tests.schedule_helpers import schedule_of
    from tests.sync_helpers import sync_in_process
    from webapp.orgs.models import Organisation
    from webapp.user_sync.engine.undo import run_undo, start_undo
    assert sync_in_process(school).status == m.COMPLETE
    save_schedule(school, "1h")
    assert school.sim.control.remove_member(NORTHFIELD, demo.OBRIEN_ID)
    bad = sync_in_process(school)
    assert bad.suspended == 1, bad.reason
    undo = start_undo(school.org, bad.id, school.admin)
    as_of = due_now(school)
    outcome, org_id = {}, school.org.id

    def undo_to_its_end():
        in_a_thread_of_its_own(app, lambda: run_undo(undo.id).status, outcome,
                               "undo").join(timeout=60)

    with after_the_ticks_read(read, undo_to_its_end) as seen:
        [line] = [line for line in tick.tick(as_of) if line.organisation_id == org_id]
    assert seen["happened"] and outcome["undo"] == m.COMPLETE, outcome
    assert line.action == tick.SKIPPED, (line.action, line.reason)
    assert queued_runs_per_school().get(org_id) is None
    assert schedule_of(db.session.get(Organisation, org_id)).paused_at is not None
