"""Apply removals and Sync now pressed at the same moment on a waiting review (two admins, or
the Schools page and Manage user sync), or while an undo replaces it: one wins, the other is
told what became of the review, and none meets a database deadlock.

Sync now replaces the review in the transaction that takes the school's one-sync slot; Apply
removals takes the review's row and then the slot; so does the undo (its run holds the slot).
The overlap is made certain by the database: the test holds a lock the first needs (the audit
table, so the Sync now stops at its audit entry with its slot taken but not committed; a person
the undo restores), and the second is pressed then.
"""
import pytest
from sqlalchemy import text

from tests.microsoft_flow import demo
from tests.sync.races import in_a_thread_of_its_own, wait_for_waiters
from tests.sync_helpers import NORTHFIELD, people, sync_in_process
from webapp.auth.models import User
from webapp.errors import ServiceError
from webapp.extensions import db
from webapp.microsoft.selection import saved_selection
from webapp.orgs.models import Organisation
from webapp.user_sync import models as m
from webapp.user_sync.engine import batch, lifecycle
from webapp.user_sync.engine.undo import run_undo, start_undo
from webapp.user_sync.settings import save_settings

pytestmark = pytest.mark.backends("postgresql")  # row locks: SQLite has one writer at a time


def sync_now_on_manage_user_sync(organisation, user):
    run, started = lifecycle.start_run(organisation, user)
    return run.id if started else None


def sync_now_on_the_schools_page(organisation, user):
    started, _ = batch.start_manual_runs({organisation.id: saved_selection(organisation)}, user)
    return started[organisation.id][0] if organisation.id in started else None


def in_its_own_session(app, school, work, outcome, key):
    """work(organisation, user) in a thread of its own, as a second web request would be."""
    org_id, user_id = school.org.id, school.admin.id
    return in_a_thread_of_its_own(app, lambda: work(db.session.get(Organisation, org_id),
                                                    db.session.get(User, user_id)),
                                  outcome, key)


@pytest.mark.parametrize("sync_now", [sync_now_on_manage_user_sync, sync_now_on_the_schools_page],
                         ids=["manage user sync", "schools page"])
def test_apply_removals_pressed_while_sync_now_replaces_the_review(app, school, sync_now):
    sync_in_process(school)
    save_settings(school.org.id, False, 1, 1)  # more than one removal needs review
    for microsoft_id in (demo.OBRIEN_ID, demo.MARKUP_ID, demo.RTL_ID):
        school.sim.control.remove_member(NORTHFIELD, microsoft_id)
    review = sync_in_process(school)
    assert review.status == m.NEEDS_REVIEW
    outcome = {}

    def apply_removals(organisation, user):
        return lifecycle.approve_review(organisation, review.id, user).id

    db.session.execute(text("LOCK TABLE audit_entries IN EXCLUSIVE MODE"))
    threads = [in_its_own_session(app, school, sync_now, outcome, "sync now")]
    try:
        wait_for_waiters(1, *threads)  # at its audit entry, holding the new run's slot
        threads.append(in_its_own_session(app, school, apply_removals, outcome, "apply"))
        wait_for_waiters(2, *threads)
    finally:
        db.session.rollback()  # the audit lock goes: both carry on
        for thread in threads:
            thread.join(timeout=30)

    new_run = outcome["sync now"]
    assert isinstance(new_run, int), new_run
    refused = outcome["apply"]
    assert isinstance(refused, ServiceError), refused
    assert str(refused) == (f"This review was replaced by a newer sync (run {new_run}), so "
                            "nothing was applied from it.")
    db.session.expire_all()
    replaced = db.session.get(m.SyncRun, review.id)
    assert (replaced.status, replaced.approved) == (m.CANCELLED, False)
    assert replaced.reason == f"Replaced by a newer sync (run {new_run}). Nothing was changed."
    assert db.session.get(m.SyncRun, new_run).status == m.QUEUED
    assert people(school.org, status="suspended") == []


def apply_removals_of(review):
    def apply_removals(organisation, user):
        return lifecycle.approve_review(organisation, review.id, user).id
    return apply_removals


@pytest.mark.parametrize("pressed", ["Sync now on the Schools page", "Apply removals"])
def test_sync_now_or_apply_removals_pressed_while_an_undo_replaces_the_review(app, school,
                                                                                pressed):
    """The undo of an earlier sync replaces a waiting review too (undo.py). Sync now and Apply
    removals take the review's row and then the school's slot, which the undo's run holds: the
    undo, stopped by the test's lock on a person it restores, must not hold its slot while it
    still has the review to take."""
    sync_in_process(school)
    school.sim.control.remove_member(NORTHFIELD, demo.OBRIEN_ID)
    to_undo = sync_in_process(school)
    assert to_undo.suspended == 1, to_undo.reason
    save_settings(school.org.id, False, 1, 1)
    for microsoft_id in (demo.MARKUP_ID, demo.RTL_ID):
        school.sim.control.remove_member(NORTHFIELD, microsoft_id)
    review = sync_in_process(school)
    assert review.status == m.NEEDS_REVIEW
    undo_id = start_undo(school.org, to_undo.id, school.admin).id
    press = {"Sync now on the Schools page": sync_now_on_the_schools_page,
             "Apply removals": apply_removals_of(review)}[pressed]
    outcome = {}

    def the_undo():
        undone = run_undo(undo_id)
        return undone.status, undone.reason

    db.session.execute(text("SELECT id FROM synced_people WHERE organisation_id = :org AND "
                            "microsoft_id = :person FOR UPDATE"),
                       {"org": school.org.id, "person": demo.OBRIEN_ID})
    threads = [in_a_thread_of_its_own(app, the_undo, outcome, "undo")]
    try:
        wait_for_waiters(1, *threads)  # restoring the person the test holds
        threads.append(in_its_own_session(app, school, press, outcome, pressed))
        wait_for_waiters(2, *threads)
    finally:
        db.session.rollback()  # the person's lock goes: both carry on
        for thread in threads:
            thread.join(timeout=30)

    assert outcome["undo"][0] == m.COMPLETE, outcome
    if pressed == "Apply removals":
        assert isinstance(outcome[pressed], ServiceError), outcome
        assert str(outcome[pressed]) == ("This review was replaced by the undo of an earlier sync "
                                         f"(run {undo_id}), so nothing was applied from it.")
    else:  # it waited for the undo, then started: as if pressed a moment later
        assert isinstance(outcome[pressed], int), outcome
    db.session.expire_all()
    replaced = db.session.get(m.SyncRun, review.id)
    assert (replaced.status, replaced.approved) == (m.CANCELLED, False)
    assert replaced.reason.startswith(f"Replaced by the undo of an earlier sync (run {undo_id})")
