"""Several groups per school: union, nesting, exclusion groups and safety, on the simulator."""
import csv
import io
import threading

import pytest

from tests.microsoft_flow import demo
from tests.selection_helpers import STAFF, build_school_tenant, choose
from tests.sync_helpers import changes, people, person, shared_school, sync_in_process
from webapp.microsoft.models import connection_for_organisation
from webapp.microsoft.selection import SYNC_MEMBERS as SYNC, ChosenGroup
from webapp.user_sync import models as m
from webapp.user_sync.engine import lifecycle
from webapp.user_sync.engine.fetch import fetch_selection
from webapp.user_sync.engine.run import run_sync, sync_graph_client
from webapp.user_sync.explain import explain
from webapp.user_sync.settings import save_settings


@pytest.fixture
def tenant(school):
    ids, groups = build_school_tenant(school.sim.control)
    return school, ids, groups


def via(org, microsoft_id):
    return person(org, microsoft_id).synced_via


def test_two_groups_sync_their_union_once_with_the_groups_each_person_came_through(tenant):
    school, ids, groups = tenant
    choose(school, synced=[groups.teaching, groups.support])
    run = sync_in_process(school)
    assert run.status == m.COMPLETE, run.reason
    synced = {p.microsoft_id for p in people(school.org)}
    assert synced == {ids[n] for n in STAFF + ("p1", "p2")}  # no exclusion yet
    assert run.added == len(synced) == len(people(school.org))  # t3 and the supply pair once
    assert via(school.org, ids["t1"]) == "Teaching Staff"
    assert via(school.org, ids["s2"]) == "Support Staff"
    assert via(school.org, ids["t3"]) == "Support Staff, Teaching Staff"
    # Supply Teachers is nested inside both: resolved to the chosen groups that contain it.
    assert via(school.org, ids["u1"]) == "Support Staff, Teaching Staff"
    assert run.group_name == "Support Staff, Teaching Staff"
    assert sync_in_process(school).unchanged == len(synced)  # a second run changes nobody


def test_an_excluded_group_keeps_its_nested_members_out_and_names_the_group(tenant):
    school, ids, groups = tenant
    choose(school, synced=[groups.teaching, groups.support], excluded=[groups.pupils])
    run = sync_in_process(school)
    assert run.status == m.COMPLETE, run.reason
    assert {p.microsoft_id for p in people(school.org)} == {ids[n] for n in STAFF}
    skipped = {c.microsoft_id: (c.reason, c.detail) for c in changes(run, m.SKIP)}
    assert skipped[ids["p1"]] == skipped[ids["p2"]] == (m.EXCLUDED_GROUP, "All Pupils")
    assert ids["p3"] not in skipped  # only in the excluded group: never fetched as staff
    [answer] = explain(school.org, "p1@oaklearning.example")
    assert answer.code == m.EXCLUDED_GROUP and "“All Pupils”" in answer.text


def test_excluding_a_group_suspends_its_members_who_were_synced(tenant):
    school, ids, groups = tenant
    choose(school, synced=[groups.teaching])
    assert sync_in_process(school).added == 6  # t1 t2 t3 u1 u2, and the pupil p1
    choose(school, synced=[groups.teaching], excluded=[groups.pupils])
    run = sync_in_process(school)
    assert run.status == m.COMPLETE and run.suspended == 1
    pupil = person(school.org, ids["p1"])
    assert (pupil.status, pupil.suspended_reason) == ("suspended", m.EXCLUDED_GROUP)
    [suspension] = changes(run, m.SUSPEND)
    assert suspension.detail == "All Pupils"


def test_the_tenant_answer_says_when_someone_is_in_none_of_the_chosen_groups(tenant):
    school, ids, groups = tenant
    choose(school, synced=[groups.teaching], excluded=[groups.pupils])
    [outside] = explain(school.org, "s2@oaklearning.example")
    assert outside.text == "Not in the group “Teaching Staff” (nor in any group nested inside it)."
    choose(school, synced=[groups.teaching, groups.supply], excluded=[groups.pupils])
    [outside] = explain(school.org, "s2@oaklearning.example")
    assert outside.text == ("Not in any of the chosen groups (“Supply Teachers”, “Teaching "
                            "Staff”), nor in any group nested inside them.")
    [staff] = explain(school.org, "u1@oaklearning.example")
    assert staff.text == ("In “Supply Teachers”, “Teaching Staff”, but not synced yet. "
                          "Press Sync now.")
    [pupil] = explain(school.org, "p3@oaklearning.example")
    assert pupil.code == m.EXCLUDED_GROUP and "“All Pupils”" in pupil.text


def test_removing_a_group_suspends_only_its_own_members_within_the_safety_limit(tenant):
    school, ids, groups = tenant
    choose(school, synced=[groups.teaching, groups.support])
    sync_in_process(school)
    choose(school, synced=[groups.teaching])
    run = sync_in_process(school)
    assert run.status == m.COMPLETE and run.suspended == 4, run.reason  # s1 s2 s3 p2
    suspended = {p.microsoft_id for p in people(school.org, status="suspended")}
    assert suspended == {ids["s1"], ids["s2"], ids["s3"], ids["p2"]}
    assert via(school.org, ids["t3"]) == "Teaching Staff"  # still synced, through one group now
    assert {c.reason for c in changes(run, m.SUSPEND)} == {m.LEFT_GROUP}


def test_removing_a_big_group_by_mistake_stops_for_review(tenant):
    school, ids, groups = tenant
    save_settings(school.org.id, False, 10, 2)
    choose(school, synced=[groups.teaching, groups.support])
    sync_in_process(school)
    choose(school, synced=[groups.teaching])
    run = sync_in_process(school)
    assert run.status == m.NEEDS_REVIEW and run.suspended == 4
    assert people(school.org, status="suspended") == []


@pytest.fixture
def big_tenant(app, factory, client, microsoft):
    """Generated Staff (2,500 people, three pages) and the small school groups."""
    microsoft.control.reset(users=2500)
    school = shared_school("generated-staff", factory, client, microsoft,
                           demo.GENERATED_STAFF_GROUP_ID)
    ids, groups = build_school_tenant(microsoft.control)
    return school, ids, groups


def test_a_chosen_group_deleted_mid_sync_fails_naming_it_and_changes_nobody(big_tenant):
    school, ids, groups = big_tenant
    choose(school, synced=[demo.GENERATED_STAFF_GROUP_ID, groups.teaching])
    first = sync_in_process(school)
    assert first.status == m.COMPLETE, first.reason
    school.sim.control.update_user(ids["t1"], displayName="Renamed T1")
    school.sim.control.set_faults(delete_group_id=demo.GENERATED_STAFF_GROUP_ID,
                                  delete_group_after_page=1)
    run = sync_in_process(school)
    assert run.status == m.FAILED and run.fetched > 0  # past the big group's first page
    assert school.sim.control.stats()["counters"]["faults_deleted_groups"] == 1
    assert 'The chosen group “Generated Staff” no longer exists' in run.reason
    assert "Nothing was changed" in run.reason and changes(run) == []
    assert len(people(school.org, status="active")) == first.added
    assert person(school.org, ids["t1"]).display_name == "Person T1"


def test_the_fetch_reports_progress_from_the_calling_thread_while_pages_arrive(app, big_tenant):
    """The fetching threads only count pages; the calling thread (the one that writes the run's
    row) reports, also between the first page and the last."""
    school, ids, groups = big_tenant
    school.sim.control.set_faults(latency_ms=300)  # the big group's three pages span > 0.5 s
    chosen = (ChosenGroup(demo.GENERATED_STAFF_GROUP_ID, "Generated Staff", SYNC),
              ChosenGroup(groups.teaching, "Teaching Staff", SYNC))
    connection = connection_for_organisation(school.org)
    clients = {group.id: sync_graph_client(connection) for group in chosen}
    reports = []
    fetched = fetch_selection(clients, chosen, context=app.app_context, on_progress=(
        lambda count, total: reports.append((threading.current_thread(), count, total))))
    every = sum(len(members) for members in fetched.memberships.values())
    assert {thread for thread, _, _ in reports} == {threading.current_thread()}
    assert reports[-1][1:] == (every, every)
    assert any(0 < count < every for _, count, _ in reports), reports


def test_an_unreadable_excluded_group_fails_the_sync_rather_than_let_pupils_in(tenant):
    school, ids, groups = tenant
    choose(school, synced=[groups.teaching], excluded=[groups.pupils])
    school.sim.control.delete_group(groups.pupils)
    run = sync_in_process(school)
    assert run.status == m.FAILED and 'The chosen group “All Pupils” no longer exists' in run.reason
    assert people(school.org) == []


def test_a_synced_person_kept_out_by_an_excluded_group_is_recorded_with_that_group(tenant):
    """p2 came through Support Staff; Support Staff is dropped and All Pupils (which holds p2
    through Year 7) excluded. p2 is in no synced group any more, but the reason is the excluded
    group, not "Left the group": in the review list, on the person, in "Why isn't this person
    synced?", in the people table and CSV, and in the data-held file."""
    school, ids, groups = tenant
    choose(school, synced=[groups.teaching, groups.support])
    sync_in_process(school)
    save_settings(school.org.id, False, 1, 1)  # every removal stops for review
    choose(school, synced=[groups.teaching], excluded=[groups.pupils])
    run = sync_in_process(school)
    assert run.status == m.NEEDS_REVIEW, run.reason
    suspensions = {c.microsoft_id: (c.reason, c.detail) for c in changes(run, m.SUSPEND)}
    assert suspensions[ids["p1"]] == suspensions[ids["p2"]] == (m.EXCLUDED_GROUP, "All Pupils")
    assert suspensions[ids["s1"]] == (m.LEFT_GROUP, None)
    base = f"/o/{school.org.id}/settings/user-sync"
    review = school.client.get(f"{base}/").text
    assert review.count("In “All Pupils”, a group whose members are never synced.") == 2

    lifecycle.approve_review(school.org, run.id, school.admin)
    assert run_sync(run.id).status == m.COMPLETE
    pupil = person(school.org, ids["p2"])
    assert (pupil.status, pupil.suspended_reason, pupil.suspended_group) == (
        "suspended", m.EXCLUDED_GROUP, "All Pupils")
    assert person(school.org, ids["s1"]).suspended_group is None
    [answer] = explain(school.org, "p2@oaklearning.example")
    assert answer.text == ("Synced, status Suspended: In “All Pupils”, a group whose members "
                           "are never synced.")
    table = school.client.get(f"{base}/", query_string={"q": "Person P2"}).text
    assert "In “All Pupils”, a group whose members are never synced." in table
    exported = school.client.get(f"{base}/people.csv").text.lstrip("\ufeff")
    reasons = {row["email"]: row["status_reason"] for row in csv.DictReader(io.StringIO(exported))}
    assert reasons["p2@oaklearning.example"] == ("In “All Pupils”, a group whose members are "
                                                 "never synced.")
    assert reasons["s1@oaklearning.example"] == "Left the group."
    assert reasons["t1@oaklearning.example"] == ""
    held = school.client.get(
        f"/o/{school.org.id}/settings/privacy/synced-people/{pupil.id}/data.json").json
    [row] = held["tables"]["synced_people"]
    assert (row["suspended_reason"], row["suspended_group"]) == (m.EXCLUDED_GROUP, "All Pupils")


def test_a_chosen_group_that_lists_nobody_stops_for_review_under_the_limit(tenant):
    """A small chosen group emptied (by mistake, or its members hidden from the app): its four
    people were under the removal limit's minimum of five, so they were suspended unasked."""
    school, ids, groups = tenant
    choose(school, synced=[groups.teaching, groups.support])
    assert sync_in_process(school).status == m.COMPLETE
    control = school.sim.control
    for member in (ids["s1"], ids["s2"], ids["s3"], ids["t3"], ids["p2"], groups.supply):
        assert control.remove_member(groups.support, member)
    run = sync_in_process(school)
    assert run.status == m.NEEDS_REVIEW and run.suspended == 4, run.reason
    assert run.reason.startswith("“Support Staff” now lists nobody, and this sync would "
                                 "suspend 4 people."), run.reason
    assert {p.status for p in people(school.org)} == {"active"}
