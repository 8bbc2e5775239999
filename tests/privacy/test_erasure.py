"""Leavers erased on time: `privacy erase-due --as-of` at N-1, N and N+1 days; reinstated,
shared, pre-existing and excluded people; idempotence; the audit log pruned. Against the
simulator, on SQLite and PostgreSQL."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from harness.factory import post_form
from tests.privacy.audit_helpers import entries, only_entry, values
from tests.privacy.erasure_helpers import (LEAVER, LEAVER_EMAIL, LEAVER_NAME, N, days_after,
                                           erase_due, places_holding, with_a_leaver)
from tests.sync_helpers import NORTHFIELD, NORTHFIELD_ADDED, count, person, sync_in_process
from webapp import audit
from webapp.audit import actions
from webapp.audit.models import AuditEntry
from webapp.auth.models import User
from webapp.extensions import db
from webapp.orgs.models import Membership
from webapp.orgs.services import add_membership
from webapp.privacy.erasure import ERASED
from webapp.user_sync import models as m

pytestmark = pytest.mark.both_databases  # erasure deletes by dates and joins in SQL


def history_counts(org):
    return [(r.id, r.added, r.suspended, r.skipped, count(m.SyncChange, m.SyncChange.run_id == r.id))
            for r in db.session.scalars(select(m.SyncRun).where(
                m.SyncRun.organisation_id == org.id).order_by(m.SyncRun.id))]


def test_a_leaver_is_kept_until_n_days_have_passed_then_erased_everywhere(app, school):
    leaver = with_a_leaver(school)
    post_form(school.client, f"/o/{school.org.id}/settings/user-sync/people/{leaver.id}/exclude",
              page_url=f"/o/{school.org.id}/settings/user-sync/")
    post_form(school.client, f"/o/{school.org.id}/settings/user-sync/people/{leaver.id}/include",
              page_url=f"/o/{school.org.id}/settings/user-sync/")  # audit entries about them
    user_id = db.session.get(Membership, leaver.membership_id).user_id
    leaver_id = leaver.id
    history = history_counts(school.org)
    assert places_holding(LEAVER_EMAIL)

    for days, seconds in ((N - 1, 0), (N, 0)):
        assert "nobody due" in erase_due(app, days_after(leaver, days, seconds))
        assert person(school.org, LEAVER) is not None and db.session.get(User, user_id)
    output = erase_due(app, days_after(leaver, N + 1))
    # the line names the school, as the tick's do (once it said "Organisation 1")
    assert f"{school.org.name}: erased 1 leaver(s) (1 account(s) deleted, 0 kept" in output, output

    assert person(school.org, LEAVER) is None and db.session.get(User, user_id) is None
    assert count(Membership, Membership.user_id == user_id) == 0
    assert places_holding(LEAVER_EMAIL) == [] and places_holding(LEAVER_NAME) == []
    assert places_holding("s.o'brien") == [] and places_holding(LEAVER) == []
    assert history_counts(school.org) == history  # runs and their entries still add up
    scrubbed = db.session.scalars(select(m.SyncChange).where(
        m.SyncChange.synced_person_id == leaver_id)).all()
    assert scrubbed and all(c.email == ERASED and c.job_title is None for c in scrubbed)
    erasure = only_entry(actions.ERASURE_RUN, school.org.id)
    assert erasure.origin == "cli" and erasure.subject_label is None
    assert {k: v for k, v in values(erasure.after).items() if k in ("people", "accounts_deleted")} \
        == {"people": 1, "accounts_deleted": 1}
    assert count(m.SyncedPerson, m.SyncedPerson.organisation_id == school.org.id) \
        == NORTHFIELD_ADDED - 1


def test_erasure_is_idempotent(app, school):
    leaver = with_a_leaver(school)
    first, again = days_after(leaver, N + 1), days_after(leaver, N + 2)
    erase_due(app, first)
    before = places_holding("@oaklearning.example")
    assert "nobody due" in erase_due(app, again)
    assert places_holding("@oaklearning.example") == before
    assert len(entries(actions.ERASURE_RUN)) == 1


def test_a_leaver_reinstated_before_the_deadline_is_untouched(app, school):
    leaver = with_a_leaver(school)
    as_of = days_after(leaver, N + 5)
    school.sim.control.add_member(NORTHFIELD, LEAVER)
    assert sync_in_process(school).reinstated == 1
    erase_due(app, as_of)
    back = person(school.org, LEAVER)
    assert back.id == leaver.id and back.status == "active" and back.suspended_at is None
    assert back.email == LEAVER_EMAIL and entries(actions.ERASURE_RUN) == []


def test_a_leaver_an_admin_added_back_on_manage_users_is_untouched(app, school):
    """Added back by hand, their membership is active again while the sync still holds them
    suspended: erasure deleted the membership and the account (an admin's, if made one)."""
    from webapp.users.services import add_person
    leaver = with_a_leaver(school)
    user_id = db.session.get(Membership, leaver.membership_id).user_id
    membership, _ = add_person(school.org, LEAVER_EMAIL, LEAVER_NAME, "admin")
    db.session.commit()
    assert (membership.id, membership.status) == (leaver.membership_id, "active")
    erase_due(app, days_after(leaver, N + 1))
    kept = db.session.get(Membership, leaver.membership_id)
    assert kept is not None and (kept.status, kept.role) == ("active", "admin")
    assert db.session.get(User, user_id).email == LEAVER_EMAIL
    assert person(school.org, LEAVER).email == LEAVER_EMAIL
    assert entries(actions.ERASURE_RUN) == []


def test_a_leaver_who_came_back_is_a_leaver_from_the_undo_of_that_sync(app, school):
    """Back in the group 40 days after leaving, then the sync that reinstated them undone: the
    undo restored their first suspension's date, and the next night's erasure took them (and
    their account) after one day as a leaver. N days from the undo, they go."""
    from webapp.clock import as_utc, frozen_at
    from webapp.user_sync.engine.undo import run_undo, start_undo
    leaver = with_a_leaver(school)
    back = as_utc(leaver.suspended_at) + timedelta(days=N + 10)
    with frozen_at(back):
        assert school.sim.control.add_member(NORTHFIELD, LEAVER)
        run = sync_in_process(school)
        assert run.reinstated == 1, run.reason
    undone_at = back + timedelta(hours=2)
    with frozen_at(undone_at):
        assert run_undo(start_undo(school.org, run.id, school.admin).id).status == m.COMPLETE
    again = person(school.org, LEAVER)
    assert again.status == "suspended" and as_utc(again.suspended_at) == undone_at
    erase_due(app, (undone_at + timedelta(days=1)).isoformat())
    assert person(school.org, LEAVER).email == LEAVER_EMAIL
    erase_due(app, (undone_at + timedelta(days=N, seconds=1)).isoformat())
    assert person(school.org, LEAVER) is None


def test_an_account_in_another_organisation_keeps_everything_but_this_membership(app, school):
    leaver = with_a_leaver(school)
    user = db.session.get(Membership, leaver.membership_id).user
    south = add_membership(user, school.oak.south, role="member")
    db.session.commit()
    erase_due(app, days_after(leaver, N + 1))
    kept = db.session.get(User, user.id)
    assert kept is not None and kept.email == LEAVER_EMAIL
    assert [mb.organisation_id for mb in kept.memberships] == [school.oak.south.id]
    assert db.session.get(Membership, south.id).status == "active"
    assert person(school.org, LEAVER) is None


def test_an_account_that_existed_before_the_sync_keeps_everything_but_this_membership(
        app, school, factory):
    existing = factory.user(LEAVER_EMAIL, [], name="Siobhan (platform)")
    leaver = with_a_leaver(school)
    assert db.session.get(Membership, leaver.membership_id).user_id == existing.id
    assert "0 account(s) deleted, 1 kept" in erase_due(app, days_after(leaver, N + 1))
    kept = db.session.get(User, existing.id)
    assert kept is not None and kept.password_hash and kept.memberships == []
    assert person(school.org, LEAVER) is None


def test_active_and_excluded_people_are_never_touched(app, school):
    leaver = with_a_leaver(school)
    post_form(school.client, f"/o/{school.org.id}/settings/user-sync/people/{leaver.id}/exclude",
              page_url=f"/o/{school.org.id}/settings/user-sync/")
    active_before = count(m.SyncedPerson, m.SyncedPerson.status == "active")
    erase_due(app, days_after(leaver, N + 400))
    assert person(school.org, LEAVER).status == "excluded"
    assert count(m.SyncedPerson, m.SyncedPerson.status == "active") == active_before


def test_never_keeps_leavers(app, school):
    leaver = with_a_leaver(school)
    from webapp.privacy.retention import save_retention
    save_retention(school.org.id, "never", "")
    assert "retention: Never" in erase_due(app, days_after(leaver, 3650 + 1))
    assert person(school.org, LEAVER) is not None


def test_the_erasure_job_removes_audit_entries_past_their_retention(app, admin):
    as_of = datetime(2027, 6, 1, tzinfo=timezone.utc)
    old = audit.record(actions.SYNC_STARTED, admin.org.id)
    old.created_at = as_of - timedelta(days=731)
    recent = audit.record(actions.SYNC_STARTED, admin.org.id)
    recent.created_at = as_of - timedelta(days=729)
    db.session.commit()
    old_id, recent_id = old.id, recent.id
    from jobs.privacy import erase_due_job
    assert erase_due_job(as_of.isoformat())["audit_entries_removed"] >= 1
    db.session.expire_all()
    assert db.session.get(AuditEntry, old_id) is None
    assert db.session.get(AuditEntry, recent_id) is not None
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) >= 1


def test_an_unreadable_as_of_is_refused_with_a_message(app):
    result = app.test_cli_runner().invoke(args=["privacy", "erase-due", "--as-of", "next tuesday"])
    assert result.exit_code == 2 and "not an ISO-8601 date" in result.output

