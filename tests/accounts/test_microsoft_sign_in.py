"""Sign in with Microsoft against the simulator (real MSAL over TLS): the account linked by
tenant id + object id (by the user sync, or by the person), never by a name or an email, never
a new account; refused for a leaver, a disabled account, an old state or a wrong nonce."""
import urllib.parse

import pytest
from sqlalchemy import func, select

from tests.accounts.helpers import STRONG, audit_count, link_in, mails_after_jobs, post_page_form
from tests.accounts.two_step_helpers import MOMENT, password_step, turn_on_app
from harness.factory import post_form, sign_in
from tests.microsoft_flow import demo, return_to_app, sign_in_at_microsoft
from tests.sync_helpers import NORTHFIELD, person, sync_in_process
from webapp.audit import actions
from webapp.audit.models import AuditEntry
from webapp.auth.models import AccountSession, MicrosoftSignInLink, User
from webapp.clock import frozen_at
from webapp.extensions import db
from webapp.orgs.models import Membership
from webapp.two_step.models import TwoStepPolicy
from webapp.user_sync import models as m

OBRIEN_UPN = "siobhan.obrien@oaklearning.example"
OBRIEN_EMAIL = "s.o'brien@oaklearning.example"  # the mailbox: the platform account's email


def start(client, next_url=""):
    """Presses Sign in with Microsoft on the sign-in page; returns Microsoft's address."""
    response = post_page_form(client, "/login", "/login/microsoft", {"next": next_url})
    assert response.status_code == 302, response.text
    return response.location


def through_microsoft(sim, auth_uri, account):
    """Signs in at the simulator; returns the callback URL it sends the browser back to."""
    _, outcome = sign_in_at_microsoft(sim, auth_uri, account)
    assert isinstance(outcome, str), f"Microsoft stopped on a page:\n{outcome.text}"
    return outcome


def sign_in_with_microsoft(app, sim, account, next_url="", client=None):
    client = client or app.test_client()
    return client, return_to_app(client, through_microsoft(sim, start(client, next_url), account))


def user_count():
    return db.session.scalar(select(func.count()).select_from(User))


@pytest.mark.both_databases  # the sync's bulk writes and the sign-in's join on ids
def test_a_synced_member_signs_in_with_microsoft_by_tenant_and_object_id(app, school):
    sync_in_process(school)
    synced = person(school.org, demo.OBRIEN_ID)
    assert synced.tenant_id == demo.TENANT_ID  # the sync recorded the tenant of the id
    accounts = user_count()
    client, answer = sign_in_with_microsoft(app, school.sim, OBRIEN_UPN)
    assert answer.status_code == 302 and answer.location == "/"
    home = client.get("/", follow_redirects=True)
    assert school.org.name in home.text and OBRIEN_EMAIL.replace("'", "&#39;") in home.text
    session_row = db.session.scalar(select(AccountSession).order_by(AccountSession.id.desc()))
    assert session_row.method == "microsoft"
    assert db.session.get(User, session_row.user_id).email == OBRIEN_EMAIL
    assert user_count() == accounts
    signed_in = db.session.scalar(select(AuditEntry).where(AuditEntry.action == actions.SIGN_IN)
                                  .order_by(AuditEntry.id.desc()))
    assert signed_in.after == '{"method": "microsoft"}' and signed_in.actor_email == OBRIEN_EMAIL


def test_an_unlinked_microsoft_account_gets_a_page_saying_who_to_ask_and_no_account(app, school):
    sync_in_process(school)
    accounts = user_count()
    # it-sync@ has a platform account with exactly that email, yet is not linked: no match by
    # email. Jo Bloggs has no platform account at all: none is created.
    for account in (demo.ADMIN_UPN, demo.PERSONAL_UPN):
        client, answer = sign_in_with_microsoft(app, school.sim, account)
        assert answer.status_code == 403 and "isn't linked to rostersync" in answer.text
        assert "ask your school's rostersync administrator" in answer.text
        assert client.get("/").status_code == 302  # not signed in
    assert user_count() == accounts
    assert audit_count(actions.SIGN_IN_FAILED) == 2


def test_after_the_sync_suspends_a_leaver_their_session_stops_and_microsoft_is_refused(
        app, school):
    sync_in_process(school)
    client, answer = sign_in_with_microsoft(app, school.sim, OBRIEN_UPN)
    assert answer.status_code == 302
    school.sim.control.remove_member(NORTHFIELD, demo.OBRIEN_ID)
    assert sync_in_process(school).suspended == 1
    stopped = client.get("/", follow_redirects=True)
    assert stopped.request.path == "/login" and "no longer has access" in stopped.text
    _, again = sign_in_with_microsoft(app, school.sim, OBRIEN_UPN)
    assert again.status_code == 403 and "not active in any school" in again.text


def test_a_replayed_callback_and_one_with_an_old_state_are_refused(app, school):
    sync_in_process(school)
    client = app.test_client()
    callback = through_microsoft(school.sim, start(client), OBRIEN_UPN)
    assert return_to_app(client, callback).status_code == 302
    post_page_form(client, "/", "/logout", {})
    replayed = return_to_app(client, callback)
    assert replayed.status_code == 400 and "already been used or has expired" in replayed.text
    start(client)  # a new sign-in is waiting; the old answer is not its answer
    old_state = return_to_app(client, callback)
    assert old_state.status_code == 400 and "didn't match this sign-in" in old_state.text
    assert client.get("/").status_code == 302


def test_an_answer_whose_id_token_carries_another_nonce_is_refused(app, school):
    sync_in_process(school)
    client = app.test_client()
    auth_uri = start(client)
    parts = urllib.parse.urlsplit(auth_uri)
    query = dict(urllib.parse.parse_qsl(parts.query))
    query["nonce"] = "a-nonce-this-sign-in-never-made"
    forged = parts._replace(query=urllib.parse.urlencode(query)).geturl()
    answer = return_to_app(client, through_microsoft(school.sim, forged, OBRIEN_UPN))
    assert answer.status_code == 400 and "didn't match this sign-in" in answer.text
    assert client.get("/").status_code == 302
    assert db.session.scalar(select(func.count()).select_from(AccountSession)) == 1  # the admin's


def test_a_disabled_microsoft_account_never_gets_back_to_rostersync(app, school):
    sync_in_process(school)
    school.sim.control.update_user(demo.OBRIEN_ID, accountEnabled=False)
    client = app.test_client()
    _, outcome = sign_in_at_microsoft(school.sim, start(client), OBRIEN_UPN)
    assert not isinstance(outcome, str) and "AADSTS50057" in outcome.text
    assert client.get("/").status_code == 302


def test_an_outage_of_microsofts_token_endpoint_gets_the_could_not_be_reached_page(app, school):
    """MSAL raises MsalServiceError for a 5xx when redeeming the code: a page, not a 500."""
    sync_in_process(school)
    client = app.test_client()
    callback = through_microsoft(school.sim, start(client), OBRIEN_UPN)
    school.sim.control.set_faults(error_status=503, error_count=1, include_token_endpoint=True)
    answer = return_to_app(client, callback)
    assert answer.status_code == 502 and "Microsoft couldn" in answer.text
    assert client.get("/").status_code == 302


def test_next_pointing_off_site_is_ignored(app, school):
    sync_in_process(school)
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        _, answer = sign_in_with_microsoft(app, school.sim, OBRIEN_UPN, target)
        assert answer.location == "/", target
    _, answer = sign_in_with_microsoft(app, school.sim, OBRIEN_UPN, f"/o/{school.org.id}/")
    assert answer.location == f"/o/{school.org.id}/"


def link_from_security_page(client, sim, account):
    response = post_page_form(client, "/account/security/", "/account/security/microsoft/link", {})
    assert response.status_code == 302
    return return_to_app(client, through_microsoft(sim, response.location, account))


def test_an_admin_links_their_microsoft_account_then_signs_in_with_it(app, school):
    linked = link_from_security_page(school.client, school.sim, demo.ADMIN_UPN)
    assert linked.status_code == 303
    page = school.client.get(linked.location).text
    assert f"Linked {demo.ADMIN_UPN}" in page and "Unlink" in page
    assert audit_count(actions.MICROSOFT_LINKED) == 1
    client, answer = sign_in_with_microsoft(app, school.sim, demo.ADMIN_UPN)
    assert answer.status_code == 302
    assert db.session.get(User, db.session.scalars(select(AccountSession.user_id).order_by(
        AccountSession.id.desc())).first()).email == school.admin.email
    # Someone else cannot link the same Microsoft account to theirs.
    other = app.test_client()
    school.sim.control.reset()
    factory_user = User(email="other.admin@school.example", email_normalised="other.admin@school.example")
    factory_user.set_password("password")
    db.session.add(factory_user)
    db.session.add(Membership(user=factory_user, organisation=school.org, role="admin"))
    db.session.commit()
    sign_in(other, "other.admin@school.example")
    refused = link_from_security_page(other, school.sim, demo.ADMIN_UPN)
    assert "already linked to another rostersync account" in other.get(refused.location).text
    assert db.session.scalar(select(func.count()).select_from(MicrosoftSignInLink)) == 1


def test_unlinking_the_only_way_in_is_refused(app, school):
    link_from_security_page(school.client, school.sim, demo.ADMIN_UPN)
    link = db.session.scalar(select(MicrosoftSignInLink))
    school.admin.password_hash = None
    db.session.commit()
    url = f"/account/security/microsoft/{link.id}/unlink"
    refused = post_page_form(school.client, "/account/security/", url, {})
    assert "only way into your rostersync account" in school.client.get(refused.location).text
    assert db.session.scalar(select(func.count()).select_from(MicrosoftSignInLink)) == 1
    post_page_form(school.client, "/account/security/", "/account/security/password", {
        "password": STRONG, "confirmation": STRONG})
    done = post_page_form(school.client, "/account/security/", url, {})
    assert "no longer signs you in" in school.client.get(done.location).text
    assert audit_count(actions.MICROSOFT_UNLINKED) == 1


def test_connect_with_microsoft_hints_the_account_the_admin_signed_in_with(app, school, db):
    sync_in_process(school)
    obrien = db.session.get(Membership, person(school.org, demo.OBRIEN_ID).membership_id)
    obrien.role = "admin"
    db.session.commit()
    client, _ = sign_in_with_microsoft(app, school.sim, OBRIEN_UPN)
    url = f"/o/{school.org.id}/settings/user-sync/import/microsoft"
    connect = post_page_form(client, url, f"{url}/connect", {})
    hint = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(connect.location).query))["login_hint"]
    assert hint == OBRIEN_UPN  # not the platform account's email, s.o'brien@


def test_an_invited_person_can_sign_in_with_microsoft_instead_of_a_password(
        app, school, smtp_server):
    users = f"/o/{school.org.id}/settings/users/"
    post_form(school.client, users, {"email": demo.PERSONAL_UPN, "display_name": "Jo Bloggs",
                                     "role": "member"}, page_url=users)
    link = link_in(mails_after_jobs(app, smtp_server, 1)[0][1])
    client = app.test_client()
    started = post_page_form(client, link, "/invitation/microsoft", {"token": link.split("=", 1)[1]})
    assert started.status_code == 302
    answer = return_to_app(client, through_microsoft(school.sim, started.location, demo.PERSONAL_UPN))
    assert answer.status_code == 302 and school.org.name in client.get("/", follow_redirects=True).text
    assert audit_count(actions.INVITATION_ACCEPTED) == 1
    assert client.get(link).status_code == 410 and app.test_client().get(link).status_code == 410
    _, again = sign_in_with_microsoft(app, school.sim, demo.PERSONAL_UPN)
    assert again.status_code == 302


@pytest.mark.both_databases  # the sync's bulk writes and the sign-in's join on ids
def test_the_sync_records_the_tenant_of_every_persons_microsoft_id(school):
    sync_in_process(school)
    tenants = set(db.session.scalars(select(m.SyncedPerson.tenant_id)))
    assert tenants == {demo.TENANT_ID}


def test_sign_in_with_microsoft_asks_no_second_step_and_the_page_says_why(app, school):
    """With a Microsoft account of the school's own tenant, the school's Microsoft policies
    govern that sign-in: neither an admin's own two-step nor the school's "Admins must use
    two-step verification" asks anything more of it (another tenant's account: see
    test_microsoft_two_step_policy.py)."""
    db.session.add(MicrosoftSignInLink(user_id=school.admin.id, tenant_id=demo.TENANT_ID,
                                       object_id=demo.ADMIN_ID, username=demo.ADMIN_UPN))
    db.session.add(TwoStepPolicy(organisation_id=school.org.id, admins_must_use_two_step=True))
    db.session.commit()
    client, answer = sign_in_with_microsoft(app, school.sim, demo.ADMIN_UPN)
    assert answer.status_code == 302 and answer.location == "/"
    assert client.get(f"/o/{school.org.id}/settings/users/").status_code == 200  # not set-up
    page = client.get("/account/security/").text
    assert "Sign in with Microsoft with an account of your school's own Microsoft tenant " \
           "(the one rostersync is connected to) does not ask for this second step" in page
    with frozen_at(MOMENT):
        turn_on_app(client)
    school.sim.control.reset()
    client, answer = sign_in_with_microsoft(app, school.sim, demo.ADMIN_UPN)
    assert answer.location == "/" and client.get("/account/security/").status_code == 200
    assert password_step(app.test_client(), school.admin.email).location == "/login/two-step"


def test_a_microsoft_account_the_sync_holds_for_two_accounts_says_so_not_unlinked(
        app, school, factory):
    """Two accounts hold the same Microsoft id (the person's address changed in Microsoft
    between two schools' syncs): neither is signed in, and the page says why, not that the
    Microsoft account is unknown to rostersync."""
    from webapp.user_sync.models import SyncedPerson
    sync_in_process(school)
    synced = person(school.org, demo.OBRIEN_ID)
    other_school = factory.organisation("Other School")
    again = factory.user("siobhan.new@oaklearning.example", [other_school], password=None)
    db.session.add(SyncedPerson(
        organisation_id=other_school.id, microsoft_id=synced.microsoft_id,
        tenant_id=synced.tenant_id, membership_id=again.memberships[0].id,
        email=again.email, email_normalised=again.email_normalised))
    db.session.commit()
    client, answer = sign_in_with_microsoft(app, school.sim, OBRIEN_UPN)
    assert answer.status_code == 403 and "isn't linked" not in answer.text
    assert "more than one rostersync account" in answer.text
    assert client.get("/").status_code == 302  # not signed in


def test_a_schools_sync_is_no_way_into_an_account_other_schools_admitted(app, school, factory):
    """The sync matches an existing account by email address, and a tenant's admin can give one
    of their Microsoft users anybody's address: syncing such a user must not hand them the
    account (here an admin of another school). The owner links it themselves, signed in."""
    elsewhere = factory.organisation("Elsewhere Academy", "Another Trust")
    owner = factory.user(OBRIEN_EMAIL, [elsewhere], role="admin", password=STRONG)
    sync_in_process(school)
    held = person(school.org, demo.OBRIEN_ID)
    assert db.session.get(Membership, held.membership_id).user_id == owner.id  # attached by email
    client, answer = sign_in_with_microsoft(app, school.sim, OBRIEN_UPN)
    assert answer.status_code == 403 and "Link this Microsoft account first" in answer.text
    assert "also belongs to schools that sync did not add it to" in answer.text
    assert client.get("/").status_code == 302  # not signed in
    refused = db.session.scalar(select(AuditEntry).where(
        AuditEntry.action == actions.SIGN_IN_FAILED).order_by(AuditEntry.id.desc()))
    assert "microsoft_sync_link_not_enough" in refused.after
    owner_client = app.test_client()
    sign_in(owner_client, OBRIEN_EMAIL, STRONG)
    security = owner_client.get("/account/security/").text
    assert "user sync" not in security  # the sync's record is not listed as a way in
    assert link_from_security_page(owner_client, school.sim, OBRIEN_UPN).status_code == 303
    _, answer = sign_in_with_microsoft(app, school.sim, OBRIEN_UPN)
    assert answer.status_code == 302  # linked by its owner: it signs in now
