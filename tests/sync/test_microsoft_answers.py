"""The sync against answers Microsoft documents but a tidy tenant never gives: an index that lags,
members named by id alone, typeless and #EXT# accounts, no mailbox, long names in any script, and
a 403 that is the account's directory role rather than consent."""
import pytest

from tests.microsoft_flow import demo
from tests.sync_helpers import (NORTHFIELD, NORTHFIELD_ADDED, changes, connected_school, people,
                                person, sync_in_process)
from webapp.extensions import db
from webapp.troubleshooting import remote_checks
from webapp.user_sync import models as m
from webapp.user_sync.explain import explain

MEMBERS_PATH = f"/v1.0/groups/{NORTHFIELD}/transitiveMembers"


def new_member(sim, **fields):
    user_id = sim.control.create_user(**fields)
    sim.control.add_member(NORTHFIELD, user_id)
    return user_id


def test_a_person_added_to_the_group_is_synced_at_once_although_the_index_lags(school):
    """Membership is a plain read: it sees a change at once, the index only minutes later."""
    school.sim.control.set_tenant(index_lag_seconds=600)
    newcomer = new_member(school.sim, userPrincipalName="new.starter@oaklearning.example",
                          displayName="New Starter")
    school.sim.control.clear_request_log()
    run = sync_in_process(school)
    assert run.status == m.COMPLETE, run.reason
    assert person(school.org, newcomer).email == "new.starter@oaklearning.example"
    assert run.added == NORTHFIELD_ADDED + 1
    asked = [r for r in school.sim.control.request_log() if r["route"].startswith(MEMBERS_PATH)]
    listing = [r for r in asked if "$count" not in r["query"]]
    assert listing and all(r["route"] == MEMBERS_PATH and "ConsistencyLevel" not in r["headers"]
                           for r in listing)
    [count] = [r for r in asked if "$count" in r["query"]]  # only the progress bar's total
    assert count["headers"]["ConsistencyLevel"] == "eventual" and count["status"] == 200


def test_members_named_by_id_alone_change_nobody_and_add_nobody(school):
    first = sync_in_process(school)
    assert first.added == NORTHFIELD_ADDED
    sim = school.sim
    newcomer = new_member(sim, userPrincipalName="another.starter@oaklearning.example")
    # The connected account loses its role, and the tenant stops ordinary accounts reading
    # other users: Graph then lists user members with their type and id only.
    sim.control.update_user(demo.ADMIN_ID, admin=False)
    sim.control.set_tenant(users_can_read_other_users=False)
    run = sync_in_process(school)
    assert run.status == m.COMPLETE, run.reason
    assert (run.added, run.updated, run.suspended) == (0, 0, 0)
    kept = person(school.org, demo.OBRIEN_ID)
    assert (kept.display_name, kept.email, kept.status) == ("Siobhán O'Brien", "s.o'brien@oaklearning.example", "active")
    [skipped] = [c for c in changes(run, m.SKIP) if c.microsoft_id == newcomer]
    assert skipped.reason == m.LIMITED_INFO and skipped.detail == newcomer
    assert len([c for c in changes(run, m.KEEP) if c.reason == m.LIMITED_INFO]) == NORTHFIELD_ADDED
    history = school.client.get(f"/o/{school.org.id}/settings/user-sync/runs/{run.id}?action=skip").text
    assert "Microsoft shared only this person&#39;s ID" in history and newcomer in history


@pytest.mark.both_databases  # the name columns' width
def test_accounts_microsoft_types_and_names_as_microsoft_has_them(school):
    sim, long_name = school.sim, "ليلى " * 51 + "ح"  # 256 characters
    b2b = new_member(sim, userPrincipalName="ana.silva_partner.example#EXT#@oaklearning.example",
                     mail="ana.silva@partner.example", userType="Member", displayName="Ana 🎓 Silva")
    invited = new_member(sim, userPrincipalName="visitor_else.example#EXT#@oaklearning.example",
                         mail="visitor@else.example", userType=None, displayName="Vic Visitor")
    typeless = new_member(sim, userPrincipalName="wang.xiaoming@oaklearning.example",
                          userType=None, displayName="王小明")
    unreachable = new_member(sim, userPrincipalName="kim_other.example#EXT#@oaklearning.example",
                             mail=None, displayName="Kim Nomail")
    longest = new_member(sim, userPrincipalName="layla.long@oaklearning.example",
                         displayName=long_name)
    accented = new_member(sim, userPrincipalName="jose.decomposed@oaklearning.example",
                          displayName="Jose\u0301 Nu\u0301n\u0303ez")
    run = sync_in_process(school)
    assert run.status == m.COMPLETE, run.reason
    assert person(school.org, b2b).email == "ana.silva@partner.example"  # #EXT#, but a Member
    assert person(school.org, typeless).display_name == "王小明"
    assert person(school.org, longest).display_name == long_name
    assert person(school.org, accented).display_name == "Jose\u0301 Nu\u0301n\u0303ez"
    assert person(school.org, b2b).display_name == "Ana 🎓 Silva"
    skipped = {c.microsoft_id: c.reason for c in changes(run, m.SKIP)}
    assert (skipped[invited], skipped[unreachable]) == (m.INVITED, m.NO_EMAIL)
    [answer] = explain(school.org, "Vic Visitor")
    assert "Invited outside account" in answer.text and "#EXT#" in answer.text
    [answer] = explain(school.org, "Kim Nomail")
    assert "an invited account's #EXT# name" in answer.text
    why = school.client.get(f"/o/{school.org.id}/settings/user-sync/why?q=Kim").text
    assert "How the sync decides" in why and "whose type is Member" in why


def test_a_403_from_the_accounts_directory_rights_is_not_blamed_on_consent(school, app):
    """The connected account becomes a guest of a tenant with restricted guest access: Graph
    answers 403 Authorization_RequestDenied although every permission is granted."""
    sim = school.sim
    sim.control.update_user(demo.ADMIN_ID, admin=False, userType="Guest")
    sim.control.set_tenant(guest_access="restricted")
    run = sync_in_process(school)
    assert run.status == m.FAILED
    assert "although rostersync has all its permissions" in run.reason
    assert "Directory Readers" in run.reason and "approval link" not in run.reason
    consent_check = remote_checks.admin_consent(school.connection, school.org)
    assert consent_check["status"] == "fail" and "consent" not in consent_check["links"]
    assert "Directory Readers" in consent_check["fix"]
    assert "Authorization_RequestDenied" in consent_check["message"]
    sim.control.update_user(demo.ADMIN_ID, roles=["Directory Readers"])  # the fix it names
    assert sync_in_process(school).status == m.COMPLETE
    assert len(people(school.org)) == NORTHFIELD_ADDED


def test_an_outage_of_microsofts_sign_in_service_fails_the_sync_in_words_and_asks_no_reconnect(
        factory, client, microsoft):
    """The token endpoint answers 503 (MSAL raises MsalServiceError) while a token must be
    refreshed: the run and the why-not answer say Microsoft's sign-in service failed and to try
    again, not "an unexpected error", and the connection stays connected."""
    microsoft.control.set_tenant(token_lifetime=120)  # under MSAL's margin: every token refreshes
    school = connected_school(factory, client, microsoft)
    microsoft.control.set_faults(error_status=503, error_count=1, include_token_endpoint=True)
    run = sync_in_process(school)
    assert run.status == m.FAILED
    assert "Microsoft's sign-in service could not be reached" in run.reason
    assert "Try again later" in run.reason and "unexpected" not in run.reason
    microsoft.control.set_faults(error_status=503, error_count=1, include_token_endpoint=True)
    [answer] = explain(school.org, "Kim")
    assert "sign-in service" in answer.text and "Try again" in answer.text
    db.session.refresh(school.connection)
    assert school.connection.status == "connected"
    microsoft.control.clear_faults()
    assert sync_in_process(school).status == m.COMPLETE
