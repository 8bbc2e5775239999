"""A school with 2,500 synced people (three Graph pages), one of whom has since left the
tenant, and the checks every fault test makes afterwards:

- what the admin sees (the run's status panel on Manage user sync),
- nobody wrongly suspended (only the real leaver, and only by a complete run), nobody duplicated,
- the next run completes.
"""
import time
from types import SimpleNamespace

from sqlalchemy import func, select

from harness.factory import csrf_token_from
from tests.microsoft_flow import demo
from tests.sync_helpers import latest_run, shared_school, sync_in_process
from webapp.auth.models import User
from webapp.extensions import db
from webapp.orgs.models import Membership
from webapp.user_sync import models as m

GENERATED = 2500
SYNCED = GENERATED - 12  # the generator disables every 211th account; disabled people are skipped
TEAM_ONE = "f1000000-0000-4000-8000-000000000001"
LEAVER = "f0000000-0000-4000-8000-000000000001"
HTMX = {"HX-Request": "true"}


def school_with_a_leaver(factory, client, microsoft):
    """Built once per database per session (the first sync of 2,500 takes seconds)."""
    microsoft.control.reset(users=GENERATED)
    school = shared_school("school-with-a-leaver", factory, client, microsoft,
                           demo.GENERATED_STAFF_GROUP_ID, prepare=first_sync_of_everyone)
    assert microsoft.control.remove_member(TEAM_ONE, LEAVER)
    return school


def first_sync_of_everyone(school):
    first = sync_in_process(school)
    assert first.status == m.COMPLETE and first.added == SYNCED, first.reason


def status_panel(school, run_id):
    """The text the admin reads in the Sync now panel (the partial polls this URL)."""
    return school.client.get(f"/o/{school.org.id}/settings/user-sync/runs/{run_id}/status",
                             headers=HTMX).get_data(as_text=True)


def click_sync_now(school):
    page = school.client.get(f"/o/{school.org.id}/settings/user-sync/")
    response = school.client.post(f"/o/{school.org.id}/settings/user-sync/sync", headers=HTMX,
                                  data={"csrf_token": csrf_token_from(page.text)})
    assert response.status_code == 200, response.status_code
    return latest_run(school)


def fresh(run_id):
    db.session.expire_all()
    return db.session.get(m.SyncRun, run_id)


def wait_for(condition, timeout=60, interval=0.2, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


def suspended_ids(school):
    db.session.expire_all()
    return set(db.session.scalars(select(m.SyncedPerson.microsoft_id).where(
        m.SyncedPerson.organisation_id == school.org.id, m.SyncedPerson.status == "suspended")))


def assert_nobody_duplicated(school):
    org = school.org.id
    dupes = db.session.execute(
        select(m.SyncedPerson.microsoft_id, func.count()).where(m.SyncedPerson.organisation_id == org)
        .group_by(m.SyncedPerson.microsoft_id).having(func.count() > 1)).all()
    assert dupes == [], dupes
    people = db.session.scalar(select(func.count()).select_from(m.SyncedPerson).where(
        m.SyncedPerson.organisation_id == org))
    microsoft_memberships = db.session.scalar(select(func.count()).select_from(Membership).where(
        Membership.organisation_id == org, Membership.source == "microsoft"))
    assert people == microsoft_memberships == SYNCED
    emails = db.session.execute(select(User.email_normalised, func.count()).group_by(
        User.email_normalised).having(func.count() > 1)).all()
    assert emails == []


def assert_unharmed(school):
    """A failed run changed nobody: the leaver is still active, nobody is suspended."""
    assert suspended_ids(school) == set()
    assert_nobody_duplicated(school)


def assert_next_run_completes(school, run=None):
    """The following run completes and suspends exactly the one real leaver."""
    run = run or sync_in_process(school)
    assert run.status == m.COMPLETE, run.reason
    assert "Sync complete" in status_panel(school, run.id)
    assert suspended_ids(school) == {LEAVER}
    assert_nobody_duplicated(school)
    return SimpleNamespace(run=run)
