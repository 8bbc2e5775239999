"""The sync engine against the Microsoft simulator over HTTPS, on SQLite and PostgreSQL."""
import pytest
from sqlalchemy import select

from tests.microsoft_flow import demo
from tests.statements import statements_sent
from tests.sync_helpers import (NORTHFIELD, NORTHFIELD_ADDED, changes,
                                count, people, person, sync_in_process)
from webapp.auth.models import User
from webapp.extensions import db
from webapp.orgs.models import Membership
from webapp.user_sync import models as m

pytestmark = pytest.mark.both_databases  # the apply's bulk writes differ (COPY and arrays, executemany)


def test_first_sync_adds_transitive_user_members_and_skips_with_reasons(school):
    run = sync_in_process(school)
    assert run.status == m.COMPLETE, run.reason
    assert (run.added, run.skipped, run.suspended) == (NORTHFIELD_ADDED, 4, 0)
    synced = people(school.org)
    assert len(synced) == NORTHFIELD_ADDED
    ids = {p.microsoft_id for p in synced}
    assert demo.DEVICE_ID not in ids and demo.ORG_CONTACT_ID not in ids
    assert demo.SERVICE_PRINCIPAL_ID not in ids and demo.NORTHFIELD_TA_GROUP_ID not in ids
    skipped = {c.microsoft_id: c.reason for c in changes(run, m.SKIP)}
    assert skipped == {demo.GUEST_ID: m.GUEST, demo.DISABLED_ID: m.DISABLED,
                       demo.DUPLICATE_MAIL_IDS[0]: m.DUPLICATE_EMAIL,
                       demo.DUPLICATE_MAIL_IDS[1]: m.DUPLICATE_EMAIL}
    no_mailbox = person(school.org, demo.NO_MAILBOX_ID)
    assert no_mailbox.email == demo.NO_MAILBOX_UPN
    membership = db.session.get(Membership, no_mailbox.membership_id)
    assert membership.source == "microsoft" and membership.status == "active"
    assert membership.user.email == demo.NO_MAILBOX_UPN
    assert person(school.org, demo.MARKUP_ID).display_name == "<b>Ms</b> Script"


def test_a_run_records_when_the_fetch_ended_and_the_apply_began(school):
    run = sync_in_process(school)
    assert run.started_at <= run.fetched_at <= run.applying_at <= run.finished_at
    assert run.fetch_seconds + run.apply_seconds <= run.duration_seconds
    assert run.apply_seconds >= 0


def test_a_failed_run_records_no_fetch_end_and_no_apply(school):
    school.sim.control.delete_group(demo.NORTHFIELD_STAFF_GROUP_ID)
    failed = sync_in_process(school)
    assert failed.status == m.FAILED
    assert failed.fetched_at is None and failed.applying_at is None and failed.apply_seconds is None


def test_an_existing_account_with_that_email_is_linked_not_duplicated(school, factory):
    existing = factory.user("jose.nunez@oaklearning.example", [school.org], name="Jose N")
    users_before = count(User)
    run = sync_in_process(school)
    assert run.status == m.COMPLETE
    assert count(User) == users_before + NORTHFIELD_ADDED - 1
    linked = db.session.scalar(select(m.SyncedPerson).where(
        m.SyncedPerson.email_normalised == "jose.nunez@oaklearning.example"))
    assert db.session.get(Membership, linked.membership_id).user_id == existing.id
    db.session.refresh(existing)
    assert existing.display_name == "José Núñez"


def test_a_rename_and_a_changed_email_update_the_same_person(school):
    sync_in_process(school)
    before = person(school.org, demo.OBRIEN_ID)
    user_id = db.session.get(Membership, before.membership_id).user_id
    school.sim.control.update_user(demo.OBRIEN_ID, displayName="Siobhán Murphy",
                                   mail="s.murphy@oaklearning.example", jobTitle="Head of English")
    run = sync_in_process(school)
    assert (run.updated, run.added, run.suspended) == (1, 0, 0)
    db.session.expire_all()
    after = person(school.org, demo.OBRIEN_ID)
    assert after.id == before.id and after.display_name == "Siobhán Murphy"
    user = db.session.get(User, user_id)
    assert user.email == "s.murphy@oaklearning.example" and user.job_title == "Head of English"
    assert count(User, User.email_normalised == "s.o'brien@oaklearning.example") == 0
    assert count(m.SyncedPerson) == NORTHFIELD_ADDED


def test_a_leaver_is_suspended_and_reinstated_with_their_history(school):
    sync_in_process(school)
    leaver = person(school.org, demo.OBRIEN_ID)
    school.sim.control.remove_member(NORTHFIELD, demo.OBRIEN_ID)
    run = sync_in_process(school)
    assert (run.suspended, run.added) == (1, 0)
    db.session.expire_all()
    assert person(school.org, demo.OBRIEN_ID).status == "suspended"
    assert db.session.get(Membership, leaver.membership_id).status == "suspended"
    assert [c.reason for c in changes(run, m.SUSPEND)] == [m.LEFT_GROUP]
    school.sim.control.add_member(NORTHFIELD, demo.OBRIEN_ID)
    run = sync_in_process(school)
    assert (run.reinstated, run.added, run.suspended) == (1, 0, 0)
    db.session.expire_all()
    back = person(school.org, demo.OBRIEN_ID)
    assert back.id == leaver.id and back.membership_id == leaver.membership_id
    assert back.status == "active" and back.in_group
    assert db.session.get(Membership, leaver.membership_id).status == "active"


def test_a_disabled_microsoft_account_is_suspended(school):
    sync_in_process(school)
    school.sim.control.update_user(demo.RTL_ID, accountEnabled=False)
    run = sync_in_process(school)
    assert run.suspended == 1
    assert [c.reason for c in changes(run, m.SUSPEND)] == [m.DISABLED]
    db.session.expire_all()
    assert person(school.org, demo.RTL_ID).status == "suspended"


def test_manual_people_admins_and_the_connecting_account_are_never_suspended(school, factory):
    manual = factory.user("volunteer@school.example", [school.org])
    sync_in_process(school)
    teacher = person(school.org, demo.OBRIEN_ID)
    db.session.get(Membership, teacher.membership_id).role = "admin"
    db.session.commit()
    school.sim.control.remove_member(NORTHFIELD, demo.OBRIEN_ID)
    run = sync_in_process(school)
    assert run.suspended == 0
    assert [(c.microsoft_id, c.reason) for c in changes(run, m.KEEP)] == [
        (demo.OBRIEN_ID, m.PROTECTED_ADMIN)]
    db.session.expire_all()
    assert db.session.get(Membership, teacher.membership_id).status == "active"
    assert all(ms.status == "active" for ms in manual.memberships)
    admin_membership = school.admin.memberships[0]
    assert admin_membership.status == "active"


def test_guests_are_included_when_the_setting_is_on(school):
    from webapp.user_sync.settings import save_settings
    save_settings(school.org.id, True, 10, 5)
    run = sync_in_process(school)
    assert run.added == NORTHFIELD_ADDED + 1
    assert person(school.org, demo.GUEST_ID).email == "sam.visitor@partner.example"


def test_a_re_sync_with_no_changes_writes_no_people_rows(school):
    sync_in_process(school)
    with statements_sent() as statements:
        run = sync_in_process(school)
    writes = [statement for statement in statements
              if statement.lower().startswith(("insert", "update", "delete")) and any(
                  table in statement.lower().split("(")[0] + statement.lower()[:80]
                  for table in ("users", "memberships", "synced_people"))]
    assert run.status == m.COMPLETE and run.unchanged == NORTHFIELD_ADDED
    assert writes == []


def test_an_excluded_person_is_never_changed_until_included(school):
    from webapp.user_sync.people import set_excluded
    sync_in_process(school)
    target = person(school.org, demo.OBRIEN_ID)
    set_excluded(school.org, target.id, True)
    school.sim.control.update_user(demo.OBRIEN_ID, displayName="Renamed While Excluded")
    school.sim.control.remove_member(NORTHFIELD, demo.RTL_ID)
    run = sync_in_process(school)
    assert run.updated == 0 and run.suspended == 1
    db.session.expire_all()
    assert person(school.org, demo.OBRIEN_ID).display_name == "Siobhán O'Brien"
    assert person(school.org, demo.OBRIEN_ID).status == "excluded"
    set_excluded(school.org, target.id, False)
    run = sync_in_process(school)
    assert run.updated == 1
    db.session.expire_all()
    assert person(school.org, demo.OBRIEN_ID).display_name == "Renamed While Excluded"


def test_a_new_person_excluded_before_their_first_sync_is_never_added(school):
    from webapp.user_sync.people import exclude_microsoft_user
    exclude_microsoft_user(school.org, demo.RTL_ID, "layla.haddad@oaklearning.example", "ليلى حداد")
    run = sync_in_process(school)
    assert run.added == NORTHFIELD_ADDED - 1
    excluded = person(school.org, demo.RTL_ID)
    assert excluded.status == "excluded" and excluded.membership_id is None


def test_preview_changes_computes_the_diff_and_applies_nothing(school):
    preview = sync_in_process(school, kind=m.KIND_PREVIEW)
    assert preview.status == m.COMPLETE and preview.added == NORTHFIELD_ADDED
    assert len(changes(preview, m.ADD)) == NORTHFIELD_ADDED
    assert people(school.org) == []
    run = sync_in_process(school)
    assert run.added == NORTHFIELD_ADDED



def test_a_re_created_microsoft_account_with_the_same_email_is_relinked_not_duplicated(school):
    sync_in_process(school)
    before = person(school.org, demo.OBRIEN_ID)
    control = school.sim.control
    control.delete_user(demo.OBRIEN_ID)
    new_id = control.create_user(userPrincipalName="siobhan.obrien2@oaklearning.example",
                                 mail="s.o'brien@oaklearning.example", displayName="Siobhán O'Brien")
    control.add_member(NORTHFIELD, new_id)
    run = sync_in_process(school)
    assert run.status == m.COMPLETE and run.suspended == 0
    db.session.expire_all()
    relinked = person(school.org, new_id)
    assert relinked.id == before.id and relinked.membership_id == before.membership_id
    assert person(school.org, demo.OBRIEN_ID) is None
    assert count(m.SyncedPerson) == NORTHFIELD_ADDED
    assert count(User, User.email_normalised == "s.o'brien@oaklearning.example") == 1


@pytest.mark.parametrize("handed_on", ["swapped", "to the lower account id",
                                       "to the higher account id"])
def test_an_address_handed_from_one_person_to_another_in_one_sync_moves(school, handed_on):
    """B gives up an address and A takes it in one sync (B takes a new one, or A's): the
    accounts were written in id order, so A's met B's still holding it on the unique index,
    and that sync and every one after failed."""
    sync_in_process(school)
    user_of = {microsoft_id: db.session.get(
        Membership, person(school.org, microsoft_id).membership_id).user_id
        for microsoft_id in (demo.OBRIEN_ID, demo.RTL_ID)}
    ordered = sorted(user_of, key=user_of.get)
    takes, gives = ordered[::-1] if handed_on == "to the higher account id" else ordered
    given, held_before = person(school.org, gives).email, person(school.org, takes).email
    new_for_giver = held_before if handed_on == "swapped" else "moved.on@oaklearning.example"
    control = school.sim.control
    control.update_user(gives, mail=new_for_giver)
    control.update_user(takes, mail=given)
    run = sync_in_process(school)
    assert run.status == m.COMPLETE and run.updated == 2, run.reason
    db.session.expire_all()
    assert (person(school.org, takes).email, person(school.org, gives).email) == (
        given, new_for_giver)
    assert db.session.get(User, user_of[takes]).email == given
    assert db.session.get(User, user_of[gives]).email == new_for_giver


def test_someone_back_with_a_new_microsoft_account_after_leaving_is_relinked(school):
    """They left (the old account deleted; a sync suspended them), then came back with a new
    account and the same address: every sync skipped them as "email already used", since only
    a leaver departing in the same sync was relinked."""
    sync_in_process(school)
    before = person(school.org, demo.OBRIEN_ID)
    control = school.sim.control
    control.delete_user(demo.OBRIEN_ID)
    assert sync_in_process(school).suspended == 1
    new_id = control.create_user(userPrincipalName="siobhan.obrien2@oaklearning.example",
                                 mail="s.o'brien@oaklearning.example", displayName="Siobhán O'Brien")
    control.add_member(NORTHFIELD, new_id)
    run = sync_in_process(school)
    assert run.status == m.COMPLETE and run.added == 1, run.reason
    assert [c.microsoft_id for c in changes(run, m.SKIP) if c.reason == m.EMAIL_TAKEN] == []
    db.session.expire_all()
    back = person(school.org, new_id)
    assert (back.id, back.status, back.in_group) == (before.id, "active", True)
    assert db.session.get(Membership, back.membership_id).status == "active"
    assert count(m.SyncedPerson) == NORTHFIELD_ADDED


def test_someone_removed_from_the_school_is_not_shown_active_until_the_sync_adds_them_back(
        school):
    """Manage users removed their membership; their synced row still said Active (their page,
    the counts, Why isn't this person synced?) while the sync was about to add them back."""
    from webapp.user_sync.explain import NOT_YET, explain
    from webapp.users.services import remove_person
    sync_in_process(school)
    row = person(school.org, demo.OBRIEN_ID)
    remove_person(school.org, row.membership_id)
    db.session.expire_all()
    removed = person(school.org, demo.OBRIEN_ID)
    assert (removed.status, removed.suspended_reason) == ("suspended", m.REMOVED_BY_ADMIN)
    page = school.client.get(f"/o/{school.org.id}/settings/user-sync/people/{removed.id}").text
    assert "Removed from this school by an admin" in page
    [answer] = [a for a in explain(school.org, "s.o'brien@oaklearning.example")
                if a.microsoft_id == demo.OBRIEN_ID]
    assert answer.code == NOT_YET
    run = sync_in_process(school)
    assert run.added == 1, run.reason
    db.session.expire_all()
    back = person(school.org, demo.OBRIEN_ID)
    assert back.status == "active" and back.membership_id is not None
