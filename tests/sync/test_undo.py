"""Undo this sync: the preview, the undo run, and what it restores, refuses and pauses.

The main case is the one the feature exists for: a sync that suspended 40% of the school (after
an admin pressed Apply removals in a hurry) is undone, and the people CSV is the same as before
that sync, byte for byte, but for the times.
"""
import csv
import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from harness.factory import csrf_token_from
from tests.microsoft_flow import demo
from tests.privacy.erasure_helpers import erase_due
from tests.schedule_helpers import due_moment, run_tick, save_schedule, schedule_of
from tests.sync_helpers import (NORTHFIELD, changes, lose_job_and_sweep, person, people,
                                sync_in_process)
from tests.trust.helpers import press_on_schools_page, schools_page_form
from webapp.audit import actions
from webapp.audit.models import AuditEntry
from webapp.clock import frozen_at, utcnow
from webapp.errors import ServiceError
from webapp.extensions import db
from webapp.orgs.models import Membership
from webapp.privacy.retention import save_retention
from webapp.user_sync import models as m, people as people_module
from webapp.user_sync.engine import lifecycle
from webapp.user_sync.engine.run import run_sync
from webapp.user_sync.engine.undo import run_undo, start_undo
from webapp.user_sync.engine.undo_plan import UNDO_DAYS, refusal

_, NORTH, _, _, _ = demo.demo_users()
DIRECT = [i for i in NORTH if i not in (*demo.DUPLICATE_MAIL_IDS, demo.GUEST_ID, demo.DISABLED_ID)]


def url(school, path=""):
    return f"/o/{school.org.id}/settings/user-sync/{path}"


def people_csv(school):
    """The people table as the admin downloads it, with the times (last_seen) left out."""
    response = school.client.get(url(school, "people.csv"))
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))
    seen = rows[0].index("last_seen")
    return [row[:seen] + row[seen + 1:] for row in rows]


def apply_after_review(school):
    """Sync now stops for review (too many removals); Apply removals; the run completes."""
    run = sync_in_process(school)
    assert run.status == m.NEEDS_REVIEW, run.reason
    lifecycle.approve_review(school.org, run.id, school.admin)
    applied = run_sync(run.id)
    assert applied.status == m.COMPLETE, applied.reason
    return applied


def undo(school, run):
    """Undo this sync as the admin does it: the preview page, then Confirm undo."""
    preview = school.client.get(url(school, f"runs/{run.id}/undo"))
    assert preview.status_code == 200
    response = school.client.post(url(school, f"runs/{run.id}/undo"),
                                  data={"csrf_token": csrf_token_from(preview.text)})
    assert response.status_code == 303, response.text
    undo_run = db.session.scalar(select(m.SyncRun).where(m.SyncRun.undoes_run_id == run.id))
    assert response.location.endswith(f"/runs/{undo_run.id}")
    return run_undo(undo_run.id), preview.text


@pytest.fixture
def bad_sync(school):
    """A synced school; then someone empties most of Northfield Staff by mistake and renames a
    teacher, and the admin applies the removals after review."""
    assert sync_in_process(school).status == m.COMPLETE
    save_schedule(school, "daily", "02:00")
    school.before = people_csv(school)
    control = school.sim.control
    school.removed = DIRECT[:11]  # 11 of 27: 40%
    for microsoft_id in school.removed:
        assert control.remove_member(NORTHFIELD, microsoft_id)
    control.update_user(DIRECT[12], displayName="Wrongly Renamed", jobTitle="Nobody")
    school.run = apply_after_review(school)
    assert (school.run.suspended, school.run.updated) == (11, 1)
    return school


@pytest.mark.both_databases
def test_undoing_a_reviewed_sync_that_suspended_40_percent_restores_the_people_exactly(bad_sync):
    school = bad_sync
    assert people_csv(school) != school.before
    undone, preview = undo(school, school.run)
    assert "Would be reinstated (11)" in preview
    assert "Would get their earlier name, email, job title or department back (1)" in preview
    assert undone.status == m.COMPLETE, undone.reason
    assert (undone.reinstated, undone.updated, undone.suspended) == (11, 1, 0)
    assert people_csv(school) == school.before
    memberships = db.session.scalars(select(Membership.status).where(
        Membership.organisation_id == school.org.id)).all()
    assert set(memberships) == {"active"}
    renamed = person(school.org, DIRECT[12])
    assert renamed.display_name != "Wrongly Renamed"
    assert db.session.get(Membership, renamed.membership_id).user.display_name == renamed.display_name


def test_the_undo_is_a_recorded_run_with_its_change_log_csv_and_audit_entry(bad_sync):
    school = bad_sync
    undone, _ = undo(school, school.run)
    history = school.client.get(url(school, "history")).text
    assert "Undo of the sync of " in history and ", by IT Sync Admin" in history
    assert undone.reason.startswith("Undo of the sync of ")
    assert "11 reinstated, 0 suspended again" in undone.reason
    reinstated = changes(undone, m.REINSTATE)
    assert {c.synced_person_id for c in reinstated} == {
        person(school.org, i).id for i in school.removed}
    log = school.client.get(url(school, f"runs/{undone.id}/changes.csv"))
    rows = list(csv.DictReader(io.StringIO(log.text.lstrip("\ufeff"))))
    assert len(rows) == 12 and {r["status_before"] for r in rows if r["what"] == "Reinstated"} == {
        "suspended"}
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == actions.SYNC_UNDONE))
    assert json.loads(entry.before)["run"] == school.run.id
    assert json.loads(entry.after)["reinstate"] == 11
    assert json.loads(entry.after)["automatic_sync_paused"] is True


def sync_now_on_manage_user_sync(school):
    page = school.client.get(url(school))
    response = school.client.post(url(school, "sync"),
                                  data={"csrf_token": csrf_token_from(page.text)})
    assert response.status_code in (200, 302, 303), response.text


def sync_now_on_the_schools_page(school):
    """The admin of Northfield and Southfield ticks Northfield on Settings › Schools."""
    schools_url = f"/o/{school.org.id}/settings/schools/"
    answer = press_on_schools_page(school.client, schools_url, "sync", [school.org],
                                   schools_page_form(school.client, schools_url))
    assert "Sync now: done for 1 school" in answer.text, answer.text


TURN_BACK_ON = {"Save schedule": lambda school: save_schedule(school, "daily", "02:00"),
                "Sync now on Manage user sync": sync_now_on_manage_user_sync,
                "Sync now on the Schools page": sync_now_on_the_schools_page}


@pytest.mark.parametrize("turn_back_on", TURN_BACK_ON)
def test_it_pauses_automatic_sync_until_an_admin_turns_it_back_on(bad_sync, app, turn_back_on):
    school = bad_sync
    undone, _ = undo(school, school.run)
    assert "Automatic sync is paused for this school" in undone.reason
    assert schedule_of(school.org).paused_by_run_id == undone.id
    page = school.client.get(url(school)).text
    assert "because a sync was undone" in page  # the Automatic sync card
    assert "Sync undone" in page and "Automatic sync is paused for this school" in page  # Sync
    output = run_tick(app, due_moment(school.org))
    assert "skipped, paused after an admin undid a sync" in output  # no run queued
    assert db.session.scalar(select(m.SyncRun).where(
        m.SyncRun.trigger == m.TRIGGER_AUTOMATIC)) is None
    TURN_BACK_ON[turn_back_on](school)
    assert schedule_of(school.org).paused_at is None
    assert "because a sync was undone" not in school.client.get(url(school)).text
    resumed = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == actions.AUTOMATIC_SYNC_RESUMED)).all()
    if turn_back_on == "Save schedule":
        assert resumed == []  # the schedule's own change is the entry
    else:  # wherever Sync now was pressed: its sync queued, and the pause ended, in the log
        entry, = resumed
        assert (entry.organisation_id, entry.actor_user_id) == (school.org.id, school.admin.id)
        assert json.loads(entry.before) == {"paused_by_run": undone.id}
        assert json.loads(entry.after) == {"by": "Sync now"}
        manual, = db.session.scalars(select(m.SyncRun).where(
            m.SyncRun.trigger == m.TRIGGER_MANUAL, m.SyncRun.status == m.QUEUED)).all()
        assert manual.started_by_user_id == school.admin.id


def test_a_later_sync_that_changed_people_makes_undo_unavailable_with_the_reason(bad_sync):
    school = bad_sync
    quiet = sync_in_process(school)  # nothing changed in Microsoft: still undoable
    assert quiet.status == m.COMPLETE and refusal(school.run) is None
    school.sim.control.add_member(NORTHFIELD, school.removed[0])  # someone put back
    assert sync_in_process(school).reinstated == 1
    page = school.client.get(url(school, f"runs/{school.run.id}")).text
    assert "is not available: A later sync has changed people since this one" in page
    preview = school.client.get(url(school, f"runs/{school.run.id}/undo")).text
    assert "Undo is not available." in preview and "Confirm undo" not in preview
    with pytest.raises(ServiceError, match="A later sync has changed people"):
        start_undo(school.org, school.run.id, school.admin)


def test_a_later_sync_that_only_moved_someone_elses_hidden_flag_leaves_undo_available(
        bad_sync):
    """The nightly sync's only write is the in-group flag of an excluded person who left the
    group: it shows no change (and says there is nothing to undo), yet it made the bad sync
    impossible to undo. A flag of someone the bad sync changed still blocks it."""
    school = bad_sync
    excluded = DIRECT[20]
    people_module.set_excluded(school.org, person(school.org, excluded).id, True)
    assert school.sim.control.remove_member(NORTHFIELD, excluded)
    quiet = sync_in_process(school)
    assert (quiet.added, quiet.updated, quiet.suspended, quiet.reinstated) == (0, 0, 0, 0)
    assert [c.action for c in changes(quiet) if c.synced_person_id == person(
        school.org, excluded).id] == ["presence"]
    assert refusal(school.run) is None
    undone = run_undo(start_undo(school.org, school.run.id, school.admin).id)
    assert undone.status == m.COMPLETE and undone.reinstated == 11, undone.reason


def test_a_later_sync_that_moved_the_hidden_flag_of_someone_it_changed_blocks_undo(bad_sync):
    school = bad_sync
    renamed = person(school.org, DIRECT[12])  # updated by the bad sync
    people_module.set_excluded(school.org, renamed.id, True)
    assert school.sim.control.remove_member(NORTHFIELD, DIRECT[12])
    later = sync_in_process(school)
    assert [c.action for c in changes(later) if c.synced_person_id == renamed.id] == ["presence"]
    assert "A later sync has changed people" in refusal(school.run)


def test_an_undo_that_cancels_a_waiting_review_says_so_before_and_after(school):
    """A review worked out from the data being undone is cancelled by the undo (applied, it
    would redo it): the preview and the outcome said nothing of it, and the review was gone."""
    assert sync_in_process(school).status == m.COMPLETE
    control = school.sim.control
    assert control.remove_member(NORTHFIELD, DIRECT[0])
    small = sync_in_process(school)
    assert small.suspended == 1, small.reason
    for microsoft_id in DIRECT[1:12]:
        assert control.remove_member(NORTHFIELD, microsoft_id)
    review = sync_in_process(school)
    assert review.status == m.NEEDS_REVIEW, review.reason
    undone, preview = undo(school, small)
    assert "The sync waiting for review will be cancelled</strong> (it would suspend 11" in preview
    assert "The sync that was waiting for review was cancelled" in undone.reason
    db.session.refresh(review)
    assert review.status == m.CANCELLED
    entry = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == actions.SYNC_UNDONE)).one()
    assert json.loads(entry.after)["review_cancelled"] is True


def test_someone_included_again_since_is_not_called_erased(school):
    """Excluded before the first sync, then included again (their never-synced row goes): the
    undo of that sync said they were erased by the leaver retention rule, which was never set."""
    joiner = DIRECT[3]
    mail = next(u["mail"] for u in demo.demo_users()[0] if u["id"] == joiner)
    people_module.exclude_microsoft_user(school.org, joiner, mail, "Included Again")
    first = sync_in_process(school)
    assert first.status == m.COMPLETE, first.reason
    people_module.set_excluded(school.org, person(school.org, joiner).id, False)
    assert person(school.org, joiner) is None
    undone, preview = undo(school, first)
    assert "erased" not in preview.lower() and "erased" not in undone.reason, undone.reason
    assert "1 included in sync again, or removed from this school, by an admin since" in \
        undone.reason


def test_undo_is_offered_for_30_days_and_never_for_an_undo(bad_sync):
    school = bad_sync
    with frozen_at(utcnow() + timedelta(days=UNDO_DAYS, minutes=1)):
        assert "can be undone for 30 days" in refusal(school.run)
    undone, _ = undo(school, school.run)
    assert "already been undone" in refusal(school.run)
    assert "An undo cannot itself be undone" in refusal(undone)


def test_people_the_sync_added_are_suspended_and_the_erased_cannot_come_back(school, app):
    assert sync_in_process(school).status == m.COMPLETE
    control = school.sim.control
    joiner = control.create_user(userPrincipalName=f"joiner@{demo.TENANT_DOMAIN}",
                                 displayName="Joiner", mail=f"joiner@{demo.TENANT_DOMAIN}")
    control.add_member(NORTHFIELD, joiner)
    leaver = DIRECT[0]
    control.remove_member(NORTHFIELD, leaver)
    run = sync_in_process(school)
    assert (run.added, run.suspended) == (1, 1), run.reason
    save_retention(school.org.id, "days", "7")
    erase_due(app, (person(school.org, leaver).suspended_at + timedelta(days=8)).isoformat())
    assert person(school.org, leaver) is None

    preview = school.client.get(url(school, f"runs/{run.id}/undo")).text
    assert "cannot be restored: erased by the leaver retention rule" in preview
    assert "Would be suspended (added by this sync) (1)" in preview
    undone, _ = undo(school, run)
    assert undone.status == m.COMPLETE, undone.reason
    added = person(school.org, joiner)
    assert (added.status, added.suspended_reason) == ("suspended", m.UNDONE)  # not deleted
    assert db.session.get(Membership, added.membership_id).status == "suspended"
    assert "1 could not be restored: erased by the leaver retention rule" in undone.reason
    assert [c.reason for c in changes(undone, m.SKIP)] == [m.ERASED]


@pytest.mark.both_databases
def test_two_undos_or_an_undo_during_a_sync_are_refused_by_the_one_sync_slot(bad_sync):
    school = bad_sync
    first = start_undo(school.org, school.run.id, school.admin)
    with pytest.raises(ServiceError, match="An undo of a sync is running"):
        start_undo(school.org, school.run.id, school.admin)
    running, started = lifecycle.start_run(school.org, school.admin)
    assert not started and running.id == first.id  # Sync now shows the undo instead
    run_undo(first.id)
    with pytest.raises(ServiceError, match="already been undone"):
        start_undo(school.org, school.run.id, school.admin)
    assert len(people(school.org, status="active")) == 27


def test_someone_excluded_since_the_sync_is_left_as_they_are(bad_sync):
    school = bad_sync
    excluded = person(school.org, school.removed[0])
    people_module.set_excluded(school.org, excluded.id, True)
    undone, preview = undo(school, school.run)
    assert "Left as they are (excluded since) (1)" in preview
    assert undone.reinstated == 10 and "1 excluded since were left as they are" in undone.reason
    assert person(school.org, school.removed[0]).status == "excluded"
    assert [c.reason for c in changes(undone, m.SKIP)] == [m.EXCLUDED]


def test_undoing_the_first_sync_never_suspends_the_admin_it_linked(school):
    """The school's admin is in Northfield Staff: the first sync links their admin membership to
    their synced row. Undoing that sync must not lock the admin (or any admin) out, as no sync
    would suspend them."""
    school.sim.control.add_member(NORTHFIELD, demo.ADMIN_ID)
    run = sync_in_process(school)
    assert run.added == 28, run.reason
    undone, preview = undo(school, run)
    assert undone.status == m.COMPLETE, undone.reason
    admin = db.session.scalar(select(Membership).where(
        Membership.organisation_id == school.org.id, Membership.user_id == school.admin.id))
    assert admin.status == "active"
    assert person(school.org, demo.ADMIN_ID).status == "active"
    assert undone.suspended == 27
    assert "Kept (an admin or the connecting account) (1)" in preview
    assert school.client.get(url(school)).status_code == 200


def test_a_sync_is_not_offered_for_undo_again_after_an_undo_that_changed_nobody(bad_sync):
    """Everyone the sync changed was excluded since: the undo leaves them all as they are, and
    the sync then says it has been undone rather than offering Undo again."""
    school = bad_sync
    for microsoft_id in school.removed + [DIRECT[12]]:
        people_module.set_excluded(school.org, person(school.org, microsoft_id).id, True)
    undone, _ = undo(school, school.run)
    assert undone.status == m.COMPLETE and undone.skipped == 12, undone.reason
    assert "already been undone" in (refusal(school.run) or "")
    with pytest.raises(ServiceError, match="already been undone"):
        start_undo(school.org, school.run.id, school.admin)


def test_someone_excluded_during_the_sync_and_included_since_is_left_as_they_are(school):
    """The sync only marked them out of the group (excluded people are never changed); an admin
    included them again since. The undo must not write back the "excluded" status it recorded
    (they would show as excluded while every sync treats them as included)."""
    assert sync_in_process(school).status == m.COMPLETE
    control = school.sim.control
    kept_out = person(school.org, DIRECT[0])
    people_module.set_excluded(school.org, kept_out.id, True)
    for microsoft_id in DIRECT[:3]:
        assert control.remove_member(NORTHFIELD, microsoft_id)
    run = sync_in_process(school)
    assert run.suspended == 2, run.reason
    people_module.set_excluded(school.org, kept_out.id, False)
    assert person(school.org, DIRECT[0]).status == "active"
    undone, preview = undo(school, run)
    assert undone.status == m.COMPLETE, undone.reason
    assert "Would be suspended again" not in preview
    assert "Left as they are (changed by an admin since) (1)" in preview
    assert "included again by an admin since" in preview
    after = person(school.org, DIRECT[0])
    assert (after.status, after.excluded) == ("active", False)
    assert undone.reinstated == 2 and undone.suspended == 0


def test_an_undo_whose_job_was_lost_says_to_press_undo_again_not_sync_now(bad_sync):
    """Sync now would read the same wrong data again and, changing anyone, make the sync
    impossible to undo: the failed undo must send the admin back to Undo this sync."""
    school = bad_sync
    lost = lose_job_and_sweep(start_undo(school.org, school.run.id, school.admin))
    assert lost.status == m.FAILED and "Nothing was changed" in lost.reason
    assert "Sync now" not in lost.reason and "Undo this sync" in lost.reason, lost.reason
    assert refusal(school.run) is None


def test_someone_removed_from_the_school_by_an_admin_since_is_left_as_they_are(bad_sync):
    """The sync suspended them, then an admin removed them on the People page: the undo cannot
    give back a membership that no longer exists, so it must not show them Active without one
    (and say it reinstated them)."""
    from webapp.users.services import remove_person
    school = bad_sync
    removed = person(school.org, school.removed[0])
    remove_person(school.org, removed.membership_id)
    undone, preview = undo(school, school.run)
    assert undone.status == m.COMPLETE, undone.reason
    assert "Would be reinstated (10)" in preview
    assert "Left as they are (changed by an admin since) (1)" in preview
    assert "Removed from this school by an admin since" in preview
    assert undone.reinstated == 10, undone.reason
    after = person(school.org, school.removed[0])
    assert (after.status, after.membership_id) == ("suspended", None)


def colleague_added_by_hand(school, microsoft_id, status="active"):
    """Before the first sync an admin added a Northfield teacher by hand (People › Add), with
    the address Microsoft has for them; optionally their access was suspended since."""
    from webapp.orgs.services import add_membership, get_or_create_user
    mail = next(u["mail"] for u in demo.demo_users()[0] if u["id"] == microsoft_id)
    membership = add_membership(get_or_create_user(mail, "By Hand"), school.org)
    membership.status = status
    membership.created_at = utcnow() - timedelta(days=3)
    db.session.commit()
    return membership.id


@pytest.mark.parametrize("recorded", ["recorded at apply time", "run applied before this fix"])
def test_undoing_a_sync_never_takes_away_access_someone_had_before_it(school, recorded):
    """The first sync links a synced person to a colleague's membership that was there before
    it (added by hand). Undoing the sync puts the membership back as it was (active, manual),
    rather than treating "added by this sync" as "did not exist before"."""
    membership_id = colleague_added_by_hand(school, DIRECT[5])
    run = sync_in_process(school)
    assert run.added == 27, run.reason
    linked, = [c for c in changes(run, m.ADD) if c.microsoft_id == DIRECT[5]]
    if recorded == "recorded at apply time":
        assert linked.reason == m.LINKED_MEMBER
        assert "Already a member of this school" in school.client.get(
            url(school, f"runs/{run.id}")).text
    else:  # an older run's ADD rows carry no reason; the membership's age tells
        linked.reason = None
        db.session.commit()
    undone, preview = undo(school, run)
    assert undone.status == m.COMPLETE, undone.reason
    assert "Left as they are (members of this school before this sync) (1)" in preview
    assert "Would be suspended (added by this sync) (26)" in preview
    membership = db.session.get(Membership, membership_id)
    assert (membership.status, membership.source, membership.role) == ("active", "manual",
                                                                       "member")
    assert person(school.org, DIRECT[5]).status == "active"
    assert undone.suspended == 26
    assert "1 left as they are: members of this school before that sync" in undone.reason
    kept, = [c for c in changes(undone, m.KEEP)]
    assert (kept.reason, kept.microsoft_id) == (m.MEMBER_BEFORE, DIRECT[5])


def test_undoing_a_sync_suspends_again_a_membership_that_was_suspended_before_it(school):
    membership_id = colleague_added_by_hand(school, DIRECT[5], status="suspended")
    run = sync_in_process(school)
    linked, = [c for c in changes(run, m.ADD) if c.microsoft_id == DIRECT[5]]
    assert linked.reason == m.LINKED_SUSPENDED
    assert db.session.get(Membership, membership_id).status == "active"
    undone, preview = undo(school, run)
    assert "Would be suspended (added by this sync) (27)" in preview
    membership = db.session.get(Membership, membership_id)
    assert (membership.status, membership.source) == ("suspended", "manual")


def test_a_reviewed_sync_records_the_membership_an_add_linked_to_when_it_applies(school):
    """The review recorded the add; the membership it links to is read when Apply removals
    applies it, so the undo still leaves that colleague's access as it was."""
    from webapp.orgs.services import add_membership, get_or_create_user
    assert sync_in_process(school).status == m.COMPLETE
    control = school.sim.control
    mail = f"joiner@{demo.TENANT_DOMAIN}"
    joiner = control.create_user(userPrincipalName=mail, displayName="Joiner", mail=mail)
    control.add_member(NORTHFIELD, joiner)
    for microsoft_id in DIRECT[:11]:
        assert control.remove_member(NORTHFIELD, microsoft_id)
    run = sync_in_process(school)
    assert run.status == m.NEEDS_REVIEW, run.reason
    membership = add_membership(get_or_create_user(mail, "Joiner"), school.org)
    db.session.commit()
    lifecycle.approve_review(school.org, run.id, school.admin)
    assert run_sync(run.id).status == m.COMPLETE
    added, = changes(run, m.ADD)
    assert added.reason == m.LINKED_MEMBER
    undone, _ = undo(school, run)
    assert (undone.reinstated, undone.suspended) == (11, 0), undone.reason
    assert db.session.get(Membership, membership.id).status == "active"


@pytest.mark.both_databases
def test_an_earlier_email_taken_by_another_account_since_is_left_and_the_rest_undone(school):
    """The sync gave a teacher a new address; since then someone else's account took the old
    one. Putting it back would break the unique address of accounts: that person keeps the
    address they have now, the undo does everything else and says why."""
    from webapp.auth.models import User
    from webapp.orgs.services import add_membership, get_or_create_user
    assert sync_in_process(school).status == m.COMPLETE
    moved, renamed = person(school.org, DIRECT[13]), person(school.org, DIRECT[14])
    old_mail, old_name, renamed_name = moved.email, moved.display_name, renamed.display_name
    only_mail = person(school.org, DIRECT[15]).email
    control = school.sim.control
    control.update_user(DIRECT[13], mail=f"moved@{demo.TENANT_DOMAIN}", displayName="Moved On")
    control.update_user(DIRECT[14], displayName="Wrongly Renamed")
    control.update_user(DIRECT[15], mail=f"only.mail@{demo.TENANT_DOMAIN}")
    run = sync_in_process(school)
    assert run.updated == 3, run.reason
    for mail in (old_mail, only_mail):
        add_membership(get_or_create_user(mail, "Newcomer"), school.oak.south)
    db.session.commit()
    undone, preview = undo(school, run)
    assert undone.status == m.COMPLETE, undone.reason
    assert "Email: stays moved@" in preview
    assert "Left as they are (earlier email now used by another account) (1)" in preview
    assert (undone.updated, undone.skipped) == (2, 1)
    assert "2 kept the email they have now: their earlier one is now used by another account" \
        in undone.reason
    assert person(school.org, DIRECT[15]).email == f"only.mail@{demo.TENANT_DOMAIN}"
    after = person(school.org, DIRECT[13])
    assert (after.email, after.display_name) == (f"moved@{demo.TENANT_DOMAIN}", old_name)
    account = db.session.get(Membership, after.membership_id).user
    assert (account.email, account.display_name) == (f"moved@{demo.TENANT_DOMAIN}", old_name)
    assert db.session.scalar(select(User.display_name).where(
        User.email_normalised == old_mail.lower())) == "Newcomer"
    skipped, = changes(undone, m.SKIP)
    assert (skipped.microsoft_id, skipped.reason) == (DIRECT[15], m.EMAIL_KEPT)
    assert person(school.org, DIRECT[14]).display_name == renamed_name
    logged = {c.microsoft_id: c for c in changes(undone, m.UPDATE)}
    assert logged[DIRECT[13]].reason == m.EMAIL_KEPT
    assert logged[DIRECT[13]].email == f"moved@{demo.TENANT_DOMAIN}"
    page = school.client.get(url(school, f"runs/{undone.id}")).text
    assert "earlier email is now used by another account" in page


def test_someone_suspended_again_is_kept_out_by_the_excluded_group_they_were_in(school):
    """A pupil was suspended for being in All Pupils (an excluded group); the sync reinstated
    them (moved out of it, and renamed). The undo suspends them again: the group is named
    again on the person and in the undo's change log, not the fields that changed."""
    from tests.selection_helpers import build_school_tenant, choose
    ids, groups = build_school_tenant(school.sim.control)
    choose(school, synced=[groups.teaching])
    assert sync_in_process(school).added == 6
    choose(school, synced=[groups.teaching], excluded=[groups.pupils])
    assert sync_in_process(school).suspended == 1
    control = school.sim.control
    assert control.remove_member(groups.year7, ids["p1"])
    control.update_user(ids["p1"], displayName="Renamed Pupil")
    run = sync_in_process(school)
    assert run.reinstated == 1, run.reason
    undone, _ = undo(school, run)
    assert undone.suspended == 1, undone.reason
    pupil = person(school.org, ids["p1"])
    assert (pupil.status, pupil.suspended_reason, pupil.suspended_group) == (
        "suspended", m.EXCLUDED_GROUP, "All Pupils")
    logged, = changes(undone, m.SUSPEND)
    assert (logged.reason, logged.detail) == (m.EXCLUDED_GROUP, "All Pupils")
    page = school.client.get(url(school, f"runs/{undone.id}")).text
    assert "In “All Pupils”, a group whose members are never synced." in page
    assert "“display_name”" not in page
