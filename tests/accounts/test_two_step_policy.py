"""A school's "Admins must use two-step verification": switched on from Settings (audited, a
stale page refused, every school of the trust at once), it sends an admin without two-step who
signed in with a password to set-up at their next request and lets nothing else through until
it is done. Manage users shows who has two-step; another admin of the school can reset it (audited,
mailed), as can `flask --app wsgi user reset-two-step`."""
import re

import pytest
from sqlalchemy import select

from harness.factory import csrf_token_from, sign_in
from tests.accounts.helpers import audit_count, mails_after_jobs, post_page_form
from tests.accounts.two_step_helpers import (MOMENT, code_at, give_code, is_signed_in, key_on,
                                             password_step, start_app_setup, text_of,
                                             turn_on_app, verify_setup)
from tests.mail_helpers import bodies
from tests.statements import statements_sent
from webapp.audit import actions
from webapp.audit.models import AuditEntry
from webapp.clock import frozen_at
from webapp.extensions import db
from webapp.two_step import status
from webapp.two_step.models import TwoStepPolicy

SET_UP = "/account/security/two-step/set-up"


def policy_url(org):
    return f"/o/{org.id}/settings/two-step/"


def switch_policy(client, org, required=True, **extra):
    return post_page_form(client, policy_url(org), policy_url(org),
                          {"required": "1" if required else "", **extra})


@pytest.fixture
def colleague(app, factory, admin):
    """A second admin of the school, signed in with a password on a client of their own."""
    user = factory.user("deputy@school.example", [admin.org], role="admin", name="Deputy Head")
    client = app.test_client()
    sign_in(client, user.email)
    client.user = user
    return client


def test_an_admin_switches_the_policy_on_from_settings_and_it_is_audited(admin_client, admin):
    settings = admin_client.get(f"/o/{admin.org.id}/settings").text
    assert f'href="{policy_url(admin.org)}"' in settings
    page = admin_client.get(policy_url(admin.org)).text
    assert "Admins must use two-step verification" in page
    assert "Admins who use Sign in with Microsoft with an account of this school's own " \
           "Microsoft tenant (the one rostersync is connected to) are not asked" in page
    saved = switch_policy(admin_client, admin.org)
    assert saved.status_code == 303
    entry = db.session.scalar(select(AuditEntry).where(
        AuditEntry.action == actions.TWO_STEP_POLICY_CHANGED))
    assert entry.organisation_id == admin.org.id and entry.actor_user_id == admin.user.id
    assert (entry.before, entry.after) == ('{"admins_must_use_two_step": false}',
                                          '{"admins_must_use_two_step": true}')


def test_an_admin_signed_in_without_two_step_is_sent_to_set_up_at_their_next_request(
        app, admin_client, admin, colleague, factory):
    member = factory.user("teacher@school.example", [admin.org], role="member")
    assert colleague.get("/").status_code == 302 and colleague.get(
        f"/o/{admin.org.id}/").status_code == 200
    with frozen_at(MOMENT):
        key, _ = turn_on_app(admin_client)  # the admin who switches it on has two-step
        assert switch_policy(admin_client, admin.org).status_code == 303
        # The colleague's very next request, whatever it is, goes to set-up.
        for url in (f"/o/{admin.org.id}/", f"/o/{admin.org.id}/settings/users/", "/account/security/"):
            assert colleague.get(url).location == SET_UP, url
        htmx = colleague.get(f"/o/{admin.org.id}/settings/users/", headers={"HX-Request": "true"})
        assert htmx.headers["HX-Redirect"] == SET_UP
        token = csrf_token_from(colleague.get(SET_UP).text)
        refused = colleague.post(f"/o/{admin.org.id}/settings/users/{member.memberships[0].id}/role",
                                 data={"csrf_token": token, "role": "admin"})
        assert refused.status_code == 303 and refused.location == SET_UP
        assert member.memberships[0].role == "member"  # nothing changed
        page = text_of(colleague.get(SET_UP))
        assert f"{admin.org.name} requires admins to use two-step verification" in page
        assert "rostersync shows you only this page" in page
        colleague_key = key_on(start_app_setup(colleague))
        done = verify_setup(colleague, code_at(colleague_key, MOMENT))
        assert done.status_code == 200 and "Save your recovery codes" in done.text
        assert colleague.get(f"/o/{admin.org.id}/").status_code == 200
    # A member is never asked.
    member_client = app.test_client()
    sign_in(member_client, member.email)
    assert member_client.get(f"/o/{admin.org.id}/").status_code == 200


def test_an_admin_who_signs_in_with_a_password_without_two_step_goes_straight_to_set_up(
        app, admin, colleague):
    with frozen_at(MOMENT):
        turn_on_app(colleague)
    switch_policy(colleague, admin.org)
    client = app.test_client()
    assert password_step(client, admin.user.email).location == SET_UP
    assert client.get("/").location == SET_UP


def test_a_save_from_a_page_loaded_before_another_admins_change_is_refused_naming_them(
        admin_client, admin, colleague):
    with frozen_at(MOMENT):
        turn_on_app(admin_client)
    stale_page = admin_client.get(policy_url(admin.org)).text
    assert switch_policy(colleague, admin.org).status_code == 303
    refused = admin_client.post(policy_url(admin.org), data={
        "csrf_token": csrf_token_from(stale_page), "required": "",
        "version": re.search(r'name="version" value="([^"]*)"', stale_page).group(1)})
    assert refused.status_code == 409
    assert "These settings were changed by Deputy Head at" in text_of(refused)
    assert "since you opened this page" in text_of(refused)
    assert db.session.scalar(select(TwoStepPolicy.admins_must_use_two_step))


def test_a_trust_admin_switches_it_on_for_every_school_of_the_trust_they_administer(
        admin_client, admin, factory):
    second = factory.organisation("Second School", trust=admin.trust.name)
    factory.user(admin.user.email, [second], role="admin")
    not_theirs = factory.organisation("Third School", trust=admin.trust.name)
    page = admin_client.get(policy_url(admin.org)).text
    assert "Every school of Oak Learning Trust you administer" in page
    assert "You do not use two-step verification yet" in page
    done = switch_policy(admin_client, admin.org, scope="trust")
    set_up = admin_client.get(done.location, follow_redirects=True)  # they have none: set-up
    assert set_up.request.path == SET_UP
    assert f"Admins of {admin.org.name} and Second School must now use" in text_of(set_up)
    required = {row.organisation_id for row in db.session.scalars(select(TwoStepPolicy).where(
        TwoStepPolicy.admins_must_use_two_step.is_(True)))}
    assert required == {admin.org.id, second.id} and not_theirs.id not in required
    assert audit_count(actions.TWO_STEP_POLICY_CHANGED) == 2


def test_made_up_values_are_refused_with_the_form_as_it_was(admin_client, admin):
    for extra, words in (({"required": "yes"}, "Tick the box"),
                         ({"required": "1", "scope": "everyone"}, "Choose this school only")):
        refused = post_page_form(admin_client, policy_url(admin.org), policy_url(admin.org), extra)
        assert refused.status_code == 422 and words in text_of(refused)
    assert db.session.scalar(select(TwoStepPolicy)) is None


def test_the_last_way_to_verify_stays_while_the_policy_asks_for_it(admin_client, admin):
    with frozen_at(MOMENT):
        turn_on_app(admin_client)
    switch_policy(admin_client, admin.org)
    for url in ("/account/security/two-step/off", "/account/security/authenticator/remove"):
        refused = post_page_form(admin_client, "/account/security/", url, {"password": "password"})
        assert "requires admins to use two-step verification, so you cannot" in text_of(
            admin_client.get(refused.location)), url
    assert status.is_on(admin.user)


def test_manage_users_shows_who_has_two_step(admin_client, admin, colleague):
    with frozen_at(MOMENT):
        turn_on_app(colleague)
    page = text_of(admin_client.get(f"/o/{admin.org.id}/settings/users/"))
    assert "Two-step" in page and "Authenticator app" in page
    assert "Reset two-step…" in page and "of deputy@school.example" in page
    assert f"of {admin.user.email}" not in page.split("Reset two-step…", 1)[1]


def test_another_admin_resets_a_lost_two_step_audited_and_mailed(
        app, admin_client, admin, colleague, smtp_server):
    with frozen_at(MOMENT):
        turn_on_app(colleague)
    membership = colleague.user.memberships[0]
    url = f"/o/{admin.org.id}/settings/users/{membership.id}/two-step/reset"
    assert "has authenticator app" in text_of(admin_client.get(url))
    done = post_page_form(admin_client, url, url, {"confirmed": "1"})
    assert "Reset the two-step verification of deputy@school.example: removed the " \
           "authenticator app and 10 unused recovery codes" in text_of(admin_client.get(done.location))
    assert not status.is_on(colleague.user)
    assert not is_signed_in(colleague)  # signed out everywhere
    assert "your two-step verification was reset" in text_of(colleague.get("/", follow_redirects=True))
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == actions.TWO_STEP_RESET))
    assert (entry.organisation_id, entry.subject_user_id, entry.actor_user_id) == (
        admin.org.id, colleague.user.id, admin.user.id)
    (_, message), = mails_after_jobs(app, smtp_server, 1)
    assert message["To"] == "deputy@school.example"
    assert "School Admin of" in bodies(message)[0] and "reset the two-step" in bodies(message)[0]
    assert password_step(app.test_client(), "deputy@school.example").location == "/"


def test_an_admin_cannot_reset_their_own_two_step_here_and_a_member_cannot_at_all(
        app, admin_client, admin, factory):
    with frozen_at(MOMENT):
        turn_on_app(admin_client)
    own = f"/o/{admin.org.id}/settings/users/{admin.user.memberships[0].id}/two-step/reset"
    refused = post_page_form(admin_client, own, own, {"confirmed": "1"})
    assert "use Sign-in and security" in text_of(admin_client.get(refused.location))
    member = factory.user("teacher@school.example", [admin.org], role="member")
    member_client = app.test_client()
    sign_in(member_client, member.email)
    token = csrf_token_from(member_client.get("/account/security/").text)
    assert member_client.post(own, data={"csrf_token": token, "confirmed": "1"}).status_code == 404
    assert member_client.get(own).status_code == 404
    assert status.is_on(admin.user) and audit_count(actions.TWO_STEP_RESET) == 0


def test_the_command_line_resets_two_step_and_says_what_it_did(app, admin, colleague, smtp_server):
    with frozen_at(MOMENT):
        turn_on_app(colleague)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["user", "reset-two-step", "deputy@school.example"])
    assert result.exit_code == 0, result.output
    assert "Reset the two-step verification of deputy@school.example: removed the authenticator " \
           "app and 10 unused recovery codes; signed out 1 session" in result.output
    assert "They sign in with their password alone now." in result.output
    assert not status.is_on(colleague.user)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == actions.TWO_STEP_RESET))
    assert entry.origin == "cli" and entry.actor_user_id is None
    (_, message), = mails_after_jobs(app, smtp_server, 1)
    assert "A rostersync operator reset" in bodies(message)[0]
    again = runner.invoke(args=["user", "reset-two-step", "deputy@school.example"])
    assert again.exit_code == 1 and "does not use two-step verification" in again.output
    unknown = runner.invoke(args=["user", "reset-two-step", "nobody@school.example"])
    assert unknown.exit_code == 1 and "No account has the address" in unknown.output


def test_a_sign_in_with_code_after_the_policy_is_on_goes_to_the_page_asked_for(
        app, admin, colleague):
    with frozen_at(MOMENT):
        key, _ = turn_on_app(colleague)
        switch_policy(colleague, admin.org)
        client = app.test_client()
        asked = post_page_form(client, "/login", "/login", {
            "email": "deputy@school.example", "password": "password",
            "next": f"/o/{admin.org.id}/settings/users/"})
        assert asked.location == "/login/two-step"
        done = give_code(client, code_at(key, MOMENT, 1))
    assert done.location == f"/o/{admin.org.id}/settings/users/"


def test_a_leaver_of_the_school_cannot_have_their_two_step_reset_from_it(
        app, admin_client, admin, factory):
    """Someone suspended from (or who left) this school is no longer its to look after: their
    two-step protects the schools they are still in, whose admins alone may reset it."""
    other_school = factory.organisation("Other School")
    mover = factory.user("mover@school.example", [admin.org, other_school], role="admin")
    mover_client = app.test_client()
    sign_in(mover_client, mover.email)
    with frozen_at(MOMENT):
        turn_on_app(mover_client)
    membership = next(m for m in mover.memberships if m.organisation_id == admin.org.id)
    membership.status = "suspended"
    db.session.commit()
    url = f"/o/{admin.org.id}/settings/users/{membership.id}/two-step/reset"
    refused = post_page_form(admin_client, url, url, {"confirmed": "1"})
    assert refused.status_code == 303
    assert "no longer in" in text_of(admin_client.get(refused.location))
    assert status.is_on(mover) and audit_count(actions.TWO_STEP_RESET) == 0
    assert "Reset two-step…<span class=\"visually-hidden\"> of mover@" not in admin_client.get(
        f"/o/{admin.org.id}/settings/users/").text


def test_an_admin_of_other_schools_cannot_have_their_two_step_reset_by_an_admin_of_one(
        app, admin_client, admin, factory):
    """Their two-step protects every school they administer: an admin of only one of them (or
    of a school whose sync attached their account by email) has no say over the others."""
    other_school = factory.organisation("Other School")
    head = factory.user("head@school.example", [admin.org, other_school], role="admin",
                        name="Trust Head")
    head_client = app.test_client()
    sign_in(head_client, head.email)
    with frozen_at(MOMENT):
        turn_on_app(head_client)
    membership = next(m for m in head.memberships if m.organisation_id == admin.org.id)
    people = f"/o/{admin.org.id}/settings/users/"
    assert "Reset two-step…<span class=\"visually-hidden\"> of head@" not in admin_client.get(
        people).text
    url = f"{people}{membership.id}/two-step/reset"
    why = ("Trust Head also administers Other School, which you do not, so only an admin of every "
           "school they administer, or your rostersync operator (flask --app wsgi user "
           "reset-two-step head@school.example), can reset their two-step verification.")
    confirm = text_of(admin_client.get(url))
    assert why in confirm and 'name="confirmed"' not in confirm
    refused = post_page_form(admin_client, url, url, {"confirmed": "1"})
    assert refused.status_code == 303
    assert f"{why} Nothing was changed." in text_of(admin_client.get(refused.location))
    assert status.is_on(head) and is_signed_in(head_client)
    assert audit_count(actions.TWO_STEP_RESET) == 0


def test_an_admin_of_every_school_the_person_administers_can_reset_them(
        app, admin_client, admin, factory):
    """Schools the person is only a member of, or that the acting admin also administers, do
    not stand in the way."""
    shared = factory.organisation("Shared School")
    elsewhere = factory.organisation("Elsewhere School")
    factory.user(admin.user.email, [shared], role="admin")
    deputy = factory.user("deputy@school.example", [admin.org, shared], role="admin")
    factory.user(deputy.email, [elsewhere], role="member")
    deputy_client = app.test_client()
    sign_in(deputy_client, deputy.email)
    with frozen_at(MOMENT):
        turn_on_app(deputy_client)
    people = f"/o/{admin.org.id}/settings/users/"
    assert "Reset two-step…<span class=\"visually-hidden\"> of deputy@" in admin_client.get(
        people).text
    membership = next(m for m in deputy.memberships if m.organisation_id == admin.org.id)
    url = f"{people}{membership.id}/two-step/reset"
    done = post_page_form(admin_client, url, url, {"confirmed": "1"})
    assert "Reset the two-step verification of deputy@school.example" in text_of(
        admin_client.get(done.location))
    assert not status.is_on(deputy) and audit_count(actions.TWO_STEP_RESET) == 1


def test_manage_users_decides_every_reset_button_in_one_statement(
        app, admin_client, admin, factory):
    """Whether each row may be reset is read for the whole page at once, not a query a row."""
    people = f"/o/{admin.org.id}/settings/users/"

    def statements_for_page():
        with statements_sent() as sent:
            assert admin_client.get(people).status_code == 200
        return len(sent)

    first = statements_for_page()
    for number in range(3):
        school = factory.organisation(f"Far School {number}")
        factory.user(f"far{number}@school.example", [admin.org, school], role="admin")
    assert statements_for_page() == first
