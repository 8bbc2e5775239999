"""No lost people: broken fetches apply nothing, big removals wait for review.

Each failure is injected by the Microsoft simulator over HTTPS; the engine runs in-process.
"""
import pytest

from tests.microsoft_flow import demo
from tests.sync_helpers import (NORTHFIELD, NORTHFIELD_ADDED, changes, count, people, person,
                                shared_school, sync_in_process)
from webapp.errors import ServiceError
from webapp.extensions import db
from webapp.microsoft.models import connection_for_organisation
from webapp.orgs.models import Membership
from webapp.user_sync import models as m
from webapp.user_sync.engine import lifecycle, queries
from webapp.user_sync.engine.run import run_sync

GENERATED = 2500  # three pages of 999
GENERATED_SKIPPED = 12  # accounts disabled by the generator (every 211th)


@pytest.fixture
def big_school(app, factory, client, microsoft):
    microsoft.control.reset(users=GENERATED)
    school = shared_school("generated-staff", factory, client, microsoft,
                           demo.GENERATED_STAFF_GROUP_ID)
    run = sync_in_process(school)
    assert run.status == m.COMPLETE and run.added == GENERATED - GENERATED_SKIPPED, run.reason
    return school


def generated_id(i):
    return f"f0000000-0000-4000-8000-{i:012x}"


def assert_nobody_changed(school, expected_active):
    db.session.expire_all()
    assert len(people(school.org, status="active")) == expected_active
    assert count(Membership, Membership.status == "suspended") == 0


def test_a_failure_on_page_3_of_3_applies_nothing_and_says_why(big_school):
    big_school.sim.control.update_user(generated_id(5), displayName="Changed Name")
    big_school.sim.control.set_faults(fail_on_page=3, fail_status=500)
    run = sync_in_process(big_school)
    assert run.status == m.FAILED
    assert "Microsoft returned an error" in run.reason and "Nothing was changed" in run.reason
    assert 0 < run.fetched < GENERATED and run.total == GENERATED
    assert_nobody_changed(big_school, GENERATED - GENERATED_SKIPPED)
    assert person(big_school.org, generated_id(5)).display_name != "Changed Name"
    assert changes(run) == []


def test_a_429_storm_with_fractional_retry_after_and_503_bursts_complete(big_school):
    control = big_school.sim.control
    control.set_faults(throttle_count=5, retry_after="0.15")
    run = sync_in_process(big_school)
    assert run.status == m.COMPLETE and run.unchanged == GENERATED - GENERATED_SKIPPED
    assert control.stats()["counters"]["faults_throttled"] == 5
    control.set_faults(error_status=503, error_count=3)
    assert sync_in_process(big_school).status == m.COMPLETE
    control.set_faults(error_status=504, error_count=2, drop_connection_count=2)
    assert sync_in_process(big_school).status == m.COMPLETE


def test_endless_throttling_gives_up_after_the_configured_wait(app, big_school):
    app.config["GRAPH_MAX_TOTAL_WAIT_SECONDS"] = 1.0
    big_school.sim.control.remove_member(demo.GENERATED_STAFF_GROUP_ID, generated_id(1))
    big_school.sim.control.set_faults(throttle_count=1000, retry_after="0.4")
    run = sync_in_process(big_school)
    assert run.status == m.FAILED and "busy or unavailable" in run.reason
    assert_nobody_changed(big_school, GENERATED - GENERATED_SKIPPED)


def test_a_token_revoked_mid_sync_applies_nothing_and_asks_to_reconnect(school):
    sync_in_process(school)
    control = school.sim.control
    control.remove_member(NORTHFIELD, demo.OBRIEN_ID)
    control.revoke_refresh_tokens(demo.ADMIN_UPN)
    control.set_faults(fail_on_page=1, fail_status=401, fail_count=5)  # the access token dies
    run = sync_in_process(school)
    assert run.status == m.FAILED and "Reconnect to Microsoft" in run.reason
    assert connection_for_organisation(school.org).status == "reconnect_needed"
    assert_nobody_changed(school, NORTHFIELD_ADDED)


def test_a_deleted_group_applies_nothing_and_says_so(school):
    sync_in_process(school)
    school.sim.control.delete_group(NORTHFIELD)
    run = sync_in_process(school)
    assert run.status == m.FAILED
    assert 'The chosen group “Northfield Staff” no longer exists' in run.reason
    assert_nobody_changed(school, NORTHFIELD_ADDED)


def remove_six_and_add_one(school):
    control = school.sim.control
    leavers = []
    for synced in people(school.org):  # direct members only: TAs sit in a nested group
        if len(leavers) < 6 and control.remove_member(NORTHFIELD, synced.microsoft_id):
            leavers.append(synced.microsoft_id)
    newcomer = control.create_user(userPrincipalName="new.starter@oaklearning.example",
                                   displayName="New Starter")
    control.add_member(NORTHFIELD, newcomer)
    return leavers, newcomer


def test_too_many_removals_stop_as_needs_review_with_everything_waiting(school):
    sync_in_process(school)
    leavers, newcomer = remove_six_and_add_one(school)
    run = sync_in_process(school)
    assert run.status == m.NEEDS_REVIEW and "would suspend 6 of 27" in run.reason
    assert sorted(c.microsoft_id for c in changes(run, m.SUSPEND)) == sorted(leavers)
    assert [c.microsoft_id for c in changes(run, m.ADD)] == [newcomer]
    assert_nobody_changed(school, NORTHFIELD_ADDED)
    assert person(school.org, newcomer) is None
    assert queries.active_run(school.org.id) is None


def test_apply_removals_applies_the_reviewed_run(school):
    sync_in_process(school)
    leavers, newcomer = remove_six_and_add_one(school)
    review = sync_in_process(school)
    lifecycle.approve_review(school.org, review.id, school.admin)
    run = run_sync(review.id)
    assert run.status == m.COMPLETE and (run.suspended, run.added) == (6, 1)
    assert run.reviewed_by_user_id == school.admin.id
    db.session.expire_all()
    assert {p.microsoft_id for p in people(school.org, status="suspended")} == set(leavers)
    assert person(school.org, newcomer).status == "active"
    with pytest.raises(ServiceError):
        lifecycle.approve_review(school.org, review.id, school.admin)


def test_apply_removals_keeps_someone_made_an_admin_since_the_review(school):
    """The review planned to suspend a leaver; an admin made them an admin of the school, then
    pressed Apply removals: the reviewed plan suspended them, though admins never are."""
    sync_in_process(school)
    leavers, _ = remove_six_and_add_one(school)
    review = sync_in_process(school)
    assert review.status == m.NEEDS_REVIEW, review.reason
    promoted = person(school.org, leavers[0])
    db.session.get(Membership, promoted.membership_id).role = "admin"
    db.session.commit()
    lifecycle.approve_review(school.org, review.id, school.admin)
    applied = run_sync(review.id)
    assert applied.status == m.COMPLETE and applied.suspended == 5, applied.reason
    db.session.expire_all()
    assert db.session.get(Membership, promoted.membership_id).status == "active"
    assert person(school.org, leavers[0]).status == "active"
    assert person(school.org, leavers[1]).status == "suspended"


def test_apply_removals_leaves_active_a_leaver_back_in_the_group_since_the_review(school):
    """The reviewed plan was applied as it was: someone put back in the group in Microsoft
    after the review was suspended all the same (the next sync reinstated them). Each
    suspension is checked with Microsoft first, and the run's history is what was applied."""
    sync_in_process(school)
    leavers, newcomer = remove_six_and_add_one(school)
    review = sync_in_process(school)
    assert review.status == m.NEEDS_REVIEW and review.suspended == 6, review.reason
    reviewed_unchanged = review.unchanged
    school.sim.control.add_member(NORTHFIELD, leavers[0])
    lifecycle.approve_review(school.org, review.id, school.admin)
    applied = run_sync(review.id)
    assert applied.status == m.COMPLETE, applied.reason
    assert (applied.suspended, applied.added, applied.unchanged) == (5, 1, reviewed_unchanged)
    db.session.expire_all()
    assert person(school.org, leavers[0]).status == "active"
    assert {c.microsoft_id for c in changes(applied, m.SUSPEND)} == set(leavers[1:])
    assert person(school.org, newcomer).status == "active"


def test_a_failed_check_of_the_reviewed_removals_changes_nobody(school):
    sync_in_process(school)
    leavers, newcomer = remove_six_and_add_one(school)
    review = sync_in_process(school)
    school.sim.control.set_faults(error_status=403, error_count=50)
    lifecycle.approve_review(school.org, review.id, school.admin)
    applied = run_sync(review.id)
    assert applied.status == m.FAILED and "Nothing was changed" in applied.reason, applied.reason
    db.session.expire_all()
    assert [person(school.org, who).status for who in leavers] == ["active"] * 6
    assert person(school.org, newcomer) is None


def test_cancel_leaves_everyone_and_a_newer_sync_replaces_a_review(school):
    sync_in_process(school)
    remove_six_and_add_one(school)
    review = sync_in_process(school)
    lifecycle.cancel_review(school.org, review.id, school.admin)
    db.session.expire_all()
    assert db.session.get(m.SyncRun, review.id).status == m.CANCELLED
    assert_nobody_changed(school, NORTHFIELD_ADDED)
    second = sync_in_process(school)
    assert second.status == m.NEEDS_REVIEW
    third = sync_in_process(school)
    db.session.expire_all()
    assert db.session.get(m.SyncRun, second.id).status == m.CANCELLED
    assert "Replaced by a newer sync" in db.session.get(m.SyncRun, second.id).reason
    assert third.status == m.NEEDS_REVIEW


def test_the_removal_limit_follows_the_settings(school):
    from webapp.user_sync.settings import save_settings
    sync_in_process(school)
    save_settings(school.org.id, False, 10, 6)
    remove_six_and_add_one(school)
    run = sync_in_process(school)
    assert run.status == m.COMPLETE and run.suspended == 6
