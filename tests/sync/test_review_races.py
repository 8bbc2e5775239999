"""Apply removals and Sync now pressed at the same moment on a waiting review (two admins, or
the Schools page and Manage user sync): one wins, the other is told what became of the review,
and neither meets a database deadlock.

Sync now replaces the review in the transaction that takes the school's one-sync slot; Apply
removals takes the review's row and then the slot. The overlap is made certain by the
database: the test holds an EXCLUSIVE lock on audit_entries, so the Sync now stops at its audit
entry with its slot taken but not committed, and Apply removals is pressed then.
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
    assert str(refused) == ("This review was replaced by a newer sync, so nothing was applied "
                            "from it.")
    db.session.expire_all()
    replaced = db.session.get(m.SyncRun, review.id)
    assert (replaced.status, replaced.approved) == (m.CANCELLED, False)
    assert replaced.reason == f"Replaced by a newer sync (run {new_run}). Nothing was changed."
    assert db.session.get(m.SyncRun, new_run).status == m.QUEUED
    assert people(school.org, status="suspended") == []
