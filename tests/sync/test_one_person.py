"""Sync this person now: one person read from the simulator, decided by diff.decide, applied
alone. The rest of the school is compared before and after; a Microsoft error, throttling, a
reconnect-needed connection or a running sync change nothing and say why."""
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from harness.factory import csrf_token_from
from tests.microsoft_flow import demo
from tests.schedule_helpers import due_moment, run_tick, save_schedule, schedule_of
from tests.selection_helpers import choose
from tests.sync.people_state import school_state
from tests.sync_helpers import NORTHFIELD, changes, lose_job_and_sweep, person, sync_in_process
from webapp.audit import actions
from webapp.audit.models import AuditEntry
from webapp.errors import ServiceError
from webapp.extensions import db
from webapp.microsoft.models import RECONNECT_NEEDED
from webapp.user_sync import models as m
from webapp.user_sync.engine import lifecycle
from webapp.user_sync.engine.one_person import run_person_sync, start_person_sync

JOINER_UPN = f"new.joiner@{demo.TENANT_DOMAIN}"
USERS, NORTH, _, _, _ = demo.demo_users()
HTMX = {"HX-Request": "true"}


@pytest.fixture
def synced(school):
    """The school after its first full sync, with a joiner now in Northfield Staff and two
    other changes in Microsoft that only a full sync may pick up."""
    first = sync_in_process(school)
    assert first.status == m.COMPLETE, first.reason
    control = school.sim.control
    school.joiner = control.create_user(userPrincipalName=JOINER_UPN, displayName="New Joiner",
                                        mail=JOINER_UPN, jobTitle="Teacher")
    control.add_member(NORTHFIELD, school.joiner)
    school.renamed, school.leaver = NORTH[5], NORTH[6]
    control.update_user(school.renamed, displayName="Renamed In Microsoft")
    assert control.remove_member(NORTHFIELD, school.leaver)
    return school


def sync_one(school, asked):
    run = start_person_sync(school.org, school.admin, asked)
    return run_person_sync(run.id)


@pytest.mark.both_databases
def test_a_new_joiner_typed_by_email_is_added_and_nobody_else_changes(synced):
    before = school_state(synced.org)
    run = sync_one(synced, JOINER_UPN)
    assert run.status == m.COMPLETE, run.reason
    assert run.reason == "Added New Joiner, synced through Northfield Staff."
    assert (run.added, run.suspended, run.updated) == (1, 0, 0)
    joiner = person(synced.org, synced.joiner)
    assert (joiner.status, joiner.email, joiner.synced_via) == ("active", JOINER_UPN,
                                                                "Northfield Staff")
    after = school_state(synced.org, leaving_out={synced.joiner})
    assert after == before  # the renamed person and the leaver wait for the next full sync
    [change] = changes(run)
    assert (change.action, change.microsoft_id) == (m.ADD, synced.joiner)


@pytest.mark.both_databases
def test_a_leaver_is_suspended_alone_with_the_reason_and_their_before_values(synced):
    before = school_state(synced.org, leaving_out={synced.leaver})
    run = sync_one(synced, synced.leaver)  # from their row: by Microsoft id
    assert run.status == m.COMPLETE, run.reason
    assert run.reason.startswith("Suspended ") and "not in the group “Northfield Staff”" in run.reason
    leaver = person(synced.org, synced.leaver)
    assert (leaver.status, leaver.suspended_reason, leaver.in_group) == ("suspended",
                                                                         m.LEFT_GROUP, False)
    assert school_state(synced.org, leaving_out={synced.leaver}) == before
    [prior] = db.session.scalars(select(m.PriorValues).where(m.PriorValues.run_id == run.id)).all()
    assert (prior.synced_person_id, prior.status, prior.membership_status, prior.in_group) == (
        leaver.id, "active", "active", True)


def test_someone_in_an_excluded_group_is_not_added_and_the_answer_names_the_group(synced):
    pupils = synced.sim.control.create_group("All Pupils", members=[synced.joiner])
    choose(synced, synced=[NORTHFIELD], excluded=[pupils])
    before = school_state(synced.org)
    run = sync_one(synced, JOINER_UPN)
    assert run.status == m.COMPLETE, run.reason
    assert run.reason == "Not added: In “All Pupils”, a group whose members are never synced."
    assert person(synced.org, synced.joiner) is None
    assert school_state(synced.org) == before
    [skip] = changes(run)
    assert (skip.action, skip.reason, skip.detail) == (m.SKIP, m.EXCLUDED_GROUP, "All Pupils")


def test_an_update_and_nothing_to_change_are_said_in_words(synced):
    run = sync_one(synced, synced.renamed)
    assert run.reason.startswith("Updated Renamed In Microsoft: name now match")
    assert person(synced.org, synced.renamed).display_name == "Renamed In Microsoft"
    again = sync_one(synced, synced.renamed)
    assert again.reason == "Nothing to change: Renamed In Microsoft is synced and already matches Microsoft."


@pytest.mark.both_databases
def test_someone_asked_for_by_the_address_they_had_is_found_by_id_not_suspended(synced):
    """Their address changed in Microsoft and they are still in the group; the people list
    still shows the old one, which an admin types. They were suspended as "not in the group"
    (found by address in their row, not in Microsoft); a full sync updates them instead."""
    who = NORTH[7]
    old = person(synced.org, who).email
    new = f"renamed.address@{demo.TENANT_DOMAIN}"
    synced.sim.control.update_user(who, mail=new, userPrincipalName=new)
    run = sync_one(synced, old)
    assert run.status == m.COMPLETE, run.reason
    assert run.suspended == 0 and run.updated == 1, run.reason
    after = person(synced.org, who)
    assert (after.status, after.in_group, after.email) == ("active", True, new)


def test_someone_nobody_knows_changes_nothing_and_says_so(synced):
    before = school_state(synced.org)
    run = sync_one(synced, f"nobody@{demo.TENANT_DOMAIN}")
    assert run.status == m.COMPLETE and "Nobody in your Microsoft tenant" in run.reason
    assert school_state(synced.org) == before


@pytest.mark.parametrize("fault", [{"error_status": 503, "error_count": 100},
                                   {"throttle_count": 100, "retry_after": "0.01"}],
                         ids=["microsoft-unavailable", "throttled"])
def test_a_microsoft_error_or_throttling_changes_nothing_and_says_why(synced, fault):
    before = school_state(synced.org)
    synced.sim.control.set_faults(**fault)
    run = sync_one(synced, JOINER_UPN)
    synced.sim.control.clear_faults()
    assert run.status == m.FAILED
    assert "Microsoft was busy or unavailable for too long" in run.reason
    assert run.reason.endswith("Nothing was changed.")
    assert school_state(synced.org) == before
    assert changes(run) == []


def test_a_connection_that_needs_reconnecting_changes_nothing_and_says_so(synced):
    queued = start_person_sync(synced.org, synced.admin, JOINER_UPN)
    synced.connection.status = RECONNECT_NEEDED  # Microsoft refused the saved sign-in meanwhile
    synced.connection.status_reason = "Microsoft no longer accepts the saved sign-in."
    db.session.commit()
    before = school_state(synced.org)
    run = run_person_sync(queued.id)
    assert run.status == m.FAILED and "Reconnect to Microsoft in Import settings" in run.reason
    assert run.reason.endswith("Nothing was changed.") and school_state(synced.org) == before
    with pytest.raises(ServiceError, match="reconnect"):  # and now it is refused at once
        start_person_sync(synced.org, synced.admin, JOINER_UPN)
    assert db.session.scalar(select(m.SyncRun).where(m.SyncRun.kind == m.KIND_PERSON,
                                                     m.SyncRun.id != queued.id)) is None


def test_while_a_full_sync_runs_it_says_so_and_does_nothing(synced):
    running, started = lifecycle.start_run(synced.org, synced.admin)
    assert started
    before = school_state(synced.org)
    with pytest.raises(ServiceError, match="A sync is running for this school"):
        start_person_sync(synced.org, synced.admin, JOINER_UPN)
    assert school_state(synced.org) == before
    assert db.session.scalar(select(m.SyncRun).where(m.SyncRun.kind == m.KIND_PERSON)) is None


def test_it_is_audited_with_before_and_after(synced):
    run = sync_one(synced, synced.leaver)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == actions.PERSON_SYNCED))
    assert entry.actor_user_id == synced.admin.id and entry.subject_label == synced.leaver
    before, after = json.loads(entry.before), json.loads(entry.after)
    assert (before["status"], after["status"], after["outcome"]) == ("active", "suspended",
                                                                     run.reason)


def test_the_button_answers_through_htmx_and_the_result_polls_until_done(synced, app):
    client, org = synced.client, synced.org
    page = client.get(f"/o/{org.id}/settings/user-sync/why?q={JOINER_UPN}")
    assert "Sync this person now" in page.text
    response = client.post(f"/o/{org.id}/settings/user-sync/person-sync", headers=HTMX, data={
        "csrf_token": csrf_token_from(page.text), "person": JOINER_UPN})
    assert response.status_code == 200 and "hx-trigger=\"load delay:1s\"" in response.text
    run = db.session.scalar(select(m.SyncRun).where(m.SyncRun.kind == m.KIND_PERSON))
    run_person_sync(run.id)
    status = client.get(f"/o/{org.id}/settings/user-sync/person-sync/{run.id}", headers=HTMX)
    assert "Added New Joiner" in status.text and status.headers["HX-Trigger"] == "sync-finished"
    refused = client.post(f"/o/{org.id}/settings/user-sync/person-sync", headers=HTMX, data={
        "csrf_token": csrf_token_from(page.text), "person": "not an address"})
    assert refused.status_code == 200 and "email address or sign-in name" in refused.text
    plain = client.post(f"/o/{org.id}/settings/user-sync/person-sync", data={
        "csrf_token": csrf_token_from(page.text), "person": "not an address", "q": JOINER_UPN})
    assert plain.status_code == 303 and plain.location.endswith(f"/why?q={JOINER_UPN}")
    again = client.get(plain.location)
    assert "email address or sign-in name" in again.text and f'value="{JOINER_UPN}"' in again.text


def test_a_due_school_busy_with_one_person_stays_due_and_the_next_tick_syncs_it(synced, app):
    save_schedule(synced, "daily", "02:00")
    run = start_person_sync(synced.org, synced.admin, JOINER_UPN)  # holds the slot
    due = due_moment(synced.org)
    assert "Sync this person now, an undo or a preview is running" in run_tick(app, due)
    assert schedule_of(synced.org).next_due_at.replace(tzinfo=due.tzinfo) < due  # still due
    run_person_sync(run.id)
    assert "queued an automatic sync" in run_tick(app, due + timedelta(minutes=1))


def test_a_chosen_group_deleted_in_microsoft_fails_rather_than_suspending(synced):
    before = school_state(synced.org)
    synced.sim.control.delete_group(NORTHFIELD)
    run = sync_one(synced, NORTH[3])  # would look like a leaver without the check
    assert run.status == m.FAILED
    assert "“Northfield Staff” no longer exists in Microsoft" in run.reason
    assert school_state(synced.org) == before


def test_a_lost_job_says_to_press_sync_this_person_now_again(synced):
    lost = lose_job_and_sweep(start_person_sync(synced.org, synced.admin, JOINER_UPN))
    assert lost.status == m.FAILED and "Nothing was changed" in lost.reason
    assert "Sync this person now" in lost.reason and "Press Sync now" not in lost.reason, \
        lost.reason


def test_a_joiner_synced_now_while_a_review_waits_does_not_break_apply_removals(synced):
    """The review would add the joiner; the admin syncs them now rather than wait, then
    presses Apply removals: the removals apply, and the joiner is held once."""
    from tests.sync_helpers import people
    from webapp.user_sync.engine.run import run_sync
    control = synced.sim.control
    for microsoft_id in NORTH[7:17]:
        control.remove_member(NORTHFIELD, microsoft_id)
    review = sync_in_process(synced)
    assert review.status == m.NEEDS_REVIEW and review.added == 1, review.reason
    assert sync_one(synced, JOINER_UPN).added == 1
    lifecycle.approve_review(synced.org, review.id, synced.admin)
    applied = run_sync(review.id)
    assert applied.status == m.COMPLETE, applied.reason
    assert len([p for p in people(synced.org) if p.microsoft_id == synced.joiner]) == 1
    assert person(synced.org, NORTH[7]).status == "suspended"


def test_a_joiner_excluded_while_a_review_waits_is_not_added_by_apply_removals(synced):
    from webapp.user_sync.engine.run import run_sync
    from webapp.user_sync.people import exclude_microsoft_user
    control = synced.sim.control
    for microsoft_id in NORTH[7:17]:
        control.remove_member(NORTHFIELD, microsoft_id)
    review = sync_in_process(synced)
    assert review.status == m.NEEDS_REVIEW and review.added == 1, review.reason
    exclude_microsoft_user(synced.org, synced.joiner, JOINER_UPN, "New Joiner")
    lifecycle.approve_review(synced.org, review.id, synced.admin)
    applied = run_sync(review.id)
    assert applied.status == m.COMPLETE, applied.reason
    joiner = person(synced.org, synced.joiner)
    assert (joiner.status, joiner.excluded, joiner.membership_id) == ("excluded", True, None)


def test_a_reviewed_plan_matches_addresses_as_the_sync_does(school):
    """A review's plan is rebuilt from its change log when the admin applies it: the address
    an add is matched by was rebuilt with lower() alone, so an "ë" typed as e + diaeresis was
    stored unlike the sync's own form (NFC), and no longer matched the same person's account."""
    from webapp.auth.models import normalise_email
    from webapp.user_sync.engine.diff import MicrosoftUser, plan_changes
    from webapp.user_sync.engine.record import load_plan, record_changes
    run, _ = lifecycle.start_run(school.org, school.admin, "sync")
    typed = "Zoe\u0308.Angstrom@school.example"
    plan = plan_changes([MicrosoftUser("zoe-id", "Zoë Ångström", typed, typed, None, None,
                                       True, "Member")], [], {})
    record_changes(run.id, plan)
    [(rebuilt, _)] = load_plan(run.id, []).adds
    assert rebuilt.email_normalised == normalise_email(typed) == plan.adds[0][0].email_normalised


@pytest.mark.both_databases
def test_someone_found_in_the_group_since_a_review_is_not_suspended_by_apply_removals(synced):
    """The review would suspend Northfield's leavers; one of them is put back in the group and
    synced now. Apply removals suspended them all the same (it replays the review's plan
    against everyone still active): the one-person sync now withdraws their planned change."""
    from webapp.user_sync.engine.run import run_sync
    control = synced.sim.control
    for microsoft_id in NORTH[7:17]:
        control.remove_member(NORTHFIELD, microsoft_id)
    review = sync_in_process(synced)
    assert review.status == m.NEEDS_REVIEW, review.reason
    planned = review.suspended
    back = NORTH[7]
    control.add_member(NORTHFIELD, back)
    found = sync_one(synced, back)
    assert found.status == m.COMPLETE, found.reason
    assert found.reason.startswith("Nothing to change:")
    assert "Apply removals leaves them as they are now." in found.reason
    db.session.expire_all()
    review = db.session.get(m.SyncRun, review.id)
    assert review.suspended == planned - 1
    assert back not in {c.microsoft_id for c in changes(review)}
    lifecycle.approve_review(synced.org, review.id, synced.admin)
    applied = run_sync(review.id)
    assert applied.status == m.COMPLETE, applied.reason
    assert applied.suspended == planned - 1
    assert (person(synced.org, back).status, person(synced.org, NORTH[8]).status) == (
        "active", "suspended")


def test_a_person_the_waiting_review_does_not_change_leaves_it_as_it_was(synced):
    control = synced.sim.control
    for microsoft_id in NORTH[7:17]:
        control.remove_member(NORTHFIELD, microsoft_id)
    review = sync_in_process(synced)
    assert review.status == m.NEEDS_REVIEW, review.reason
    before = sorted((c.action, c.microsoft_id) for c in changes(review))
    found = sync_one(synced, NORTH[20])
    assert found.reason.startswith("Nothing to change:") and "review" not in found.reason
    db.session.expire_all()
    assert sorted((c.action, c.microsoft_id) for c in changes(
        db.session.get(m.SyncRun, review.id))) == before


def test_a_joiner_created_minutes_ago_is_found_by_address_although_the_index_lags(school):
    """The index behind ConsistencyLevel: eventual lags recent changes (Microsoft's
    aad-advanced-queries); the address lookup read it, and Sync this person now said a joiner
    created minutes ago was nobody in the tenant. A default query reads the directory."""
    assert sync_in_process(school).status == m.COMPLETE
    control = school.sim.control
    control.set_tenant(index_lag_seconds=600)
    joiner = control.create_user(userPrincipalName=JOINER_UPN, displayName="New Joiner",
                                 mail=JOINER_UPN)
    control.add_member(NORTHFIELD, joiner)
    control.clear_request_log()
    run = sync_one(school, JOINER_UPN)
    assert run.reason == "Added New Joiner, synced through Northfield Staff.", run.reason
    [lookup] = [r for r in control.request_log() if r["route"] == "/v1.0/users"]
    assert "ConsistencyLevel" not in lookup["headers"] and "$count" not in lookup["query"]
