"""'Why isn't this person synced?' asks the sync's own rule, so it never contradicts the sync.

Each case is asked before any sync (so the answer comes from the tenant, not from a past run),
then a preview runs and its change for that person must say the same thing.
"""
import pytest

from tests.microsoft_flow import demo
from tests.sync_helpers import NORTHFIELD, changes, sync_in_process
from webapp.user_sync import models as m
from webapp.user_sync.explain import NOT_IN_GROUP, NOT_YET, explain
from webapp.user_sync.people import exclude_microsoft_user
from webapp.user_sync.settings import save_settings

USERS, _, TEACHING_ASSISTANTS, _, _ = demo.demo_users()
EMAILS = {user["id"]: user["mail"] or user["userPrincipalName"] for user in USERS}
NESTED_TA = TEACHING_ASSISTANTS[0]  # in Northfield Staff through the nested TA group only
ASKED = {  # who, and how an admin would type them
    demo.GUEST_ID: "sam.visitor@partner.example",
    demo.DISABLED_ID: "Dana Departed",
    demo.NO_MAILBOX_ID: demo.NO_MAILBOX_UPN,
    demo.DUPLICATE_MAIL_IDS[0]: "Pat Office",
    demo.DUPLICATE_MAIL_IDS[1]: "chris.office@oaklearning.example",
    demo.RTL_ID: "layla.haddad@oaklearning.example",
    NESTED_TA: EMAILS[NESTED_TA],
    demo.PERSONAL_ID: demo.PERSONAL_UPN,
}


def answers_for(org):
    found = {}
    for microsoft_id, query in ASKED.items():
        mine = [a for a in explain(org, query) if a.microsoft_id in ("", microsoft_id)]
        assert len(mine) == 1, (query, mine)
        found[microsoft_id] = mine[0]
    return found


def sync_outcome(run, microsoft_id):
    """What the sync itself decided for the person: a reason code, NOT_YET for an add, or
    NOT_IN_GROUP when the run never saw them."""
    mine = [c for c in changes(run) if c.microsoft_id == microsoft_id]
    if not mine:
        return NOT_IN_GROUP
    assert len(mine) == 1, mine
    return NOT_YET if mine[0].action == m.ADD else mine[0].reason


def assert_answers_agree_with_the_sync(school):
    answers = answers_for(school.org)
    preview = sync_in_process(school, m.KIND_PREVIEW)
    assert preview.status == m.COMPLETE, preview.reason
    told = {who: answer.code for who, answer in answers.items()}
    did = {who: sync_outcome(preview, who) for who in ASKED}
    assert told == did
    return told


def test_every_answer_matches_what_the_sync_does_for_that_person(school):
    exclude_microsoft_user(school.org, demo.RTL_ID, EMAILS[demo.RTL_ID], "ليلى حداد")
    told = assert_answers_agree_with_the_sync(school)
    assert told == {
        demo.GUEST_ID: m.GUEST, demo.DISABLED_ID: m.DISABLED, demo.NO_MAILBOX_ID: NOT_YET,
        demo.DUPLICATE_MAIL_IDS[0]: m.DUPLICATE_EMAIL, demo.DUPLICATE_MAIL_IDS[1]: m.DUPLICATE_EMAIL,
        demo.RTL_ID: m.EXCLUDED, NESTED_TA: NOT_YET, demo.PERSONAL_ID: NOT_IN_GROUP}


def test_with_include_guests_on_a_guest_is_not_yet_synced_rather_than_skipped(school):
    save_settings(school.org.id, True, 10, 5)
    told = assert_answers_agree_with_the_sync(school)
    assert told[demo.GUEST_ID] == NOT_YET
    assert "Guest account" not in explain(school.org, ASKED[demo.GUEST_ID])[0].text


def test_once_one_twin_is_disabled_the_other_is_no_longer_a_duplicate(school):
    school.sim.control.update_user(demo.DUPLICATE_MAIL_IDS[1], accountEnabled=False)
    told = assert_answers_agree_with_the_sync(school)
    assert told[demo.DUPLICATE_MAIL_IDS[0]] == NOT_YET
    assert told[demo.DUPLICATE_MAIL_IDS[1]] == m.DISABLED


@pytest.mark.backends("sqlite")
def test_a_person_taken_out_of_the_group_is_answered_not_in_the_group(school):
    school.sim.control.remove_member(NORTHFIELD, demo.NO_MAILBOX_ID)
    assert assert_answers_agree_with_the_sync(school)[demo.NO_MAILBOX_ID] == NOT_IN_GROUP


def test_an_unreadable_microsoft_token_is_answered_with_what_to_do_not_an_error_page(school):
    """The stored token cache no key can decrypt (a key rotated wrongly): the sync says to
    reconnect; the Why page must say the same rather than fail."""
    from webapp.extensions import db
    school.connection.token_cache_encrypted = b"not readable with any configured key"
    db.session.commit()
    response = school.client.get(f"/o/{school.org.id}/settings/user-sync/why",
                                 query_string={"q": demo.PERSONAL_UPN})
    assert response.status_code == 200, response.status_code
    assert "Reconnect to Microsoft in Import settings" in response.text


def preview_of(school, microsoft_id):
    preview = sync_in_process(school, m.KIND_PREVIEW)
    assert preview.status == m.COMPLETE, preview.reason
    return sync_outcome(preview, microsoft_id)


def test_answers_read_what_the_sync_reads_not_the_lagging_index(school):
    """Microsoft's advanced-query index lags recent changes (aad-advanced-queries). Why read
    it for addresses and group membership: a joiner created and added minutes ago was "No such
    person", and someone just added to the group "Not in the group", while the sync added both."""
    control = school.sim.control
    control.set_tenant(index_lag_seconds=600)
    joiner = control.create_user(userPrincipalName="new.joiner@oaklearning.example",
                                 displayName="New Joiner", mail="new.joiner@oaklearning.example")
    control.add_member(NORTHFIELD, joiner)
    control.add_member(NORTHFIELD, demo.PERSONAL_ID)
    [new] = explain(school.org, "new.joiner@oaklearning.example")
    [added] = [a for a in explain(school.org, demo.PERSONAL_UPN)
               if a.microsoft_id == demo.PERSONAL_ID]
    assert (new.code, added.code) == (NOT_YET, NOT_YET), (new.text, added.text)
    assert preview_of(school, joiner) == preview_of(school, demo.PERSONAL_ID) == NOT_YET


def test_an_address_another_synced_account_holds_is_answered_as_the_sync_skips_it(school):
    """Why decided without settling email clashes (apply.resolve_accounts), which the sync and
    Sync this person now both do: it said "not synced yet" for someone the sync skips."""
    from tests.sync_helpers import person
    from webapp.user_sync.people import set_excluded
    assert sync_in_process(school).status == m.COMPLETE
    holder = person(school.org, demo.OBRIEN_ID)
    set_excluded(school.org, holder.id, True)
    control = school.sim.control
    assert control.remove_member(NORTHFIELD, demo.OBRIEN_ID)  # excluded: the sync leaves them
    newcomer = control.create_user(userPrincipalName="second.account@oaklearning.example",
                                   displayName="Second Account", mail=holder.email)
    control.add_member(NORTHFIELD, newcomer)
    [answer] = [a for a in explain(school.org, "second.account@oaklearning.example")
                if a.microsoft_id == newcomer]
    assert answer.code == m.EMAIL_TAKEN, answer.text
    assert preview_of(school, newcomer) == m.EMAIL_TAKEN


def test_a_synced_person_asked_by_their_sign_in_name_is_answered_synced(school):
    """Not matched among synced people (their stored address is their mail), they were
    answered from the tenant, where every action but a skip read "not synced yet"."""
    from webapp.user_sync.explain import SYNCED
    assert sync_in_process(school).status == m.COMPLETE
    archer = next(u for u in USERS if u["id"] == demo.demo_users()[1][10])  # Amelia Archer
    assert archer["userPrincipalName"] != archer["mail"]
    [answer] = [a for a in explain(school.org, archer["userPrincipalName"])
                if a.microsoft_id == archer["id"]]
    assert answer.code == SYNCED and answer.text == "Synced, status Active.", answer.text


def test_what_was_stored_is_decided_again_now(school):
    """Stored answers were given as they were: "Skipped in the last sync: Excluded" of someone
    included again, "Guest account" after Include guests went on, "Left the group" of someone
    back in it. Each is now decided by the sync's rule, as the preview decides it."""
    from tests.sync_helpers import person
    from webapp.user_sync.people import set_excluded
    excluded = exclude_microsoft_user(school.org, demo.RTL_ID, EMAILS[demo.RTL_ID], "ليلى حداد")
    assert sync_in_process(school).status == m.COMPLETE
    control = school.sim.control
    assert control.remove_member(NORTHFIELD, demo.OBRIEN_ID)
    assert sync_in_process(school).suspended == 1
    set_excluded(school.org, excluded.id, False)
    save_settings(school.org.id, True, 10, 5)
    control.add_member(NORTHFIELD, demo.OBRIEN_ID)
    asked = {demo.RTL_ID: EMAILS[demo.RTL_ID], demo.GUEST_ID: "Sam Visitor",
             demo.OBRIEN_ID: "s.o'brien@oaklearning.example"}
    told = {}
    for microsoft_id, query in asked.items():
        [answer] = [a for a in explain(school.org, query) if a.microsoft_id == microsoft_id]
        told[microsoft_id] = answer
    assert (told[demo.RTL_ID].code, told[demo.GUEST_ID].code) == (NOT_YET, NOT_YET), (
        told[demo.RTL_ID].text, told[demo.GUEST_ID].text)
    assert "reinstates them" in told[demo.OBRIEN_ID].text
    preview = sync_in_process(school, m.KIND_PREVIEW)
    assert [sync_outcome(preview, who) for who in (demo.RTL_ID, demo.GUEST_ID)] == [NOT_YET] * 2
    assert [c.action for c in changes(preview) if c.microsoft_id == demo.OBRIEN_ID] == [
        m.REINSTATE]
    assert person(school.org, demo.OBRIEN_ID).status == "suspended"  # a preview changes nobody


def test_a_match_among_synced_people_no_longer_hides_a_joiner_of_the_same_name(school):
    assert sync_in_process(school).status == m.COMPLETE
    synced = next(u for u in USERS if u["id"] == demo.demo_users()[1][10])  # Amelia Archer
    first_name = synced["displayName"].split()[0]
    control = school.sim.control
    joiner = control.create_user(userPrincipalName="amelia.zed@oaklearning.example",
                                 displayName=f"{first_name} Zed",
                                 mail="amelia.zed@oaklearning.example")
    control.add_member(NORTHFIELD, joiner)
    answers = {a.microsoft_id: a.code for a in explain(school.org, first_name)}
    assert answers[joiner] == NOT_YET and synced["id"] in answers


def test_with_microsoft_unreachable_what_was_stored_is_said_as_of_the_last_sync(school):
    assert sync_in_process(school).status == m.COMPLETE
    school.sim.control.set_faults(error_status=503, error_count=100)
    answers = explain(school.org, "s.o'brien@oaklearning.example")
    assert answers[0].code == "unknown" and "Microsoft could not answer just now" in answers[0].text
    assert [a.text for a in answers[1:]] == ["As of the last sync: Synced, status Active."]
