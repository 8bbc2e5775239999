"""Invitations: Add person mails a link (7 days, once) to Set your password; Manage users shows
Invited with Resend and Cancel; a person who can already sign in is told they were added; the
command line invites too. Every bad link gets a page that says what is wrong with it."""
import hashlib
import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.accounts.helpers import (STRONG, audit_count, bodies, link_in, mails_after_jobs,
                                    post_page_form, token_of)
from harness.factory import post_form, sign_in
from webapp.audit import actions
from webapp.auth.models import OneTimeToken, User
from webapp.clock import frozen_at, utcnow
from webapp.extensions import db
from webapp.orgs.models import Membership
from webapp.orgs.services import find_user_by_email

NEWCOMER = "new.teacher@school.example"


def users_url(org):
    return f"/o/{org.id}/settings/users/"


def add_person(client, org, email=NEWCOMER, name="New Teacher", role="member"):
    return post_form(client, users_url(org), {"email": email, "display_name": name, "role": role},
                     page_url=users_url(org))


def invite(app, admin_client, admin, smtp_server, email=NEWCOMER, already=0):
    """Adds the person and returns (the invitation mail, the path of its link)."""
    assert add_person(admin_client, admin.org, email).status_code == 302
    message = mails_after_jobs(app, smtp_server, already + 1)[already][1]
    return message, link_in(message)


def set_password(client, link, password=STRONG, confirmation=None):
    return post_page_form(client, link, "/invitation/", {
        "token": token_of(link), "password": password,
        "confirmation": password if confirmation is None else confirmation})


def test_an_invited_person_sets_a_password_from_the_mail_and_signs_in_to_their_school(
        app, admin_client, admin, smtp_server, client):
    add_person(admin_client, admin.org)
    listed = admin_client.get(users_url(admin.org)).text
    assert "Invited" in listed and "invitation not sent yet" in listed  # the job has not run
    (recipients, message), = mails_after_jobs(app, smtp_server, 1)
    assert recipients == [NEWCOMER]
    assert message["Subject"] == f"School Admin invited you to {admin.org.name} on rostersync"
    link = link_in(message)
    assert link.startswith("/invitation/?token=")
    listed = admin_client.get(users_url(admin.org)).text
    assert "Invited" in listed and "link valid until" in listed
    assert "Resend invitation" in listed and "Cancel invitation" in listed

    visitor = app.test_client()
    page = visitor.get(link)
    assert page.status_code == 200 and "Set your password" in page.text
    assert admin.org.name in page.text and NEWCOMER in page.text
    weak = set_password(visitor, link, "New-Teacher-2024")
    assert weak.status_code == 422 and "built from your name" in weak.text
    different = set_password(visitor, link, STRONG, STRONG + "x")
    assert different.status_code == 422 and "two passwords are different" in different.text
    done = set_password(visitor, link)
    assert done.status_code == 303 and done.location.startswith("/login?email=")
    sign_in(visitor, NEWCOMER, STRONG)
    assert admin.org.name in visitor.get("/", follow_redirects=True).text
    assert audit_count(actions.INVITED) == 1 and audit_count(actions.INVITATION_ACCEPTED) == 1
    listed = admin_client.get(users_url(admin.org)).text
    assert "Invited" not in listed and "Active" in listed
    used = visitor.get(link)
    assert used.status_code == 410 and "already been used" in used.text


def test_a_password_that_is_too_short_common_or_too_long_is_refused_with_the_reason(
        app, admin_client, admin, smtp_server):
    _, link = invite(app, admin_client, admin, smtp_server)
    visitor = app.test_client()
    for password, reason in (("short-one", "at least 12 characters"),
                             ("Password1234!", "commonly used password"),
                             ("x" * 10_000, "at most 128 characters")):
        refused = set_password(visitor, link, password)
        assert refused.status_code == 422 and reason in refused.text, password
        assert 'aria-invalid="true"' in refused.text
    assert find_user_by_email(NEWCOMER).password_hash is None


@pytest.mark.both_databases  # SQLite gives stored times back without their zone
def test_a_reused_expired_tampered_or_truncated_invitation_link_says_so(
        app, admin_client, admin, smtp_server):
    _, link = invite(app, admin_client, admin, smtp_server)
    visitor = app.test_client()
    truncated = visitor.get(link[:-10])
    assert truncated.status_code == 404 and "isn't complete" in truncated.text
    tampered = visitor.get(link[:-1] + ("A" if link[-1] != "A" else "B"))
    assert tampered.status_code == 404 and "isn't complete" in tampered.text
    huge = visitor.get("/invitation/?token=" + "x" * 10_000)
    assert huge.status_code == 404
    with frozen_at(utcnow() + timedelta(days=7, seconds=1)):
        expired = visitor.get(link)
        assert expired.status_code == 410 and "has expired" in expired.text
        assert set_password(visitor, link).status_code == 410
        assert "Email me a new invitation" in expired.text
        renewed = post_page_form(visitor, link, "/invitation/renew", {"token": token_of(link)})
        assert renewed.status_code == 200 and "sent a new invitation" in renewed.text
        fresh = link_in(mails_after_jobs(app, smtp_server, 2)[1][1])
        assert visitor.get(link).status_code == 410  # replaced now, not renewable again
        assert "newer email replaced" in visitor.get(link).text
        assert set_password(visitor, fresh).status_code == 303


def test_a_password_reset_link_opened_as_an_invitation_is_refused(app, factory, client,
                                                                   smtp_server):
    user = factory.user("staff@school.example", [factory.organisation()])
    post_page_form(client, "/forgot-password", "/forgot-password", {"email": user.email})
    link = link_in(mails_after_jobs(app, smtp_server, 1)[0][1])
    wrong = client.get("/invitation/?token=" + token_of(link))
    assert wrong.status_code == 410 and "is for something else" in wrong.text
    assert set_password(client, "/invitation/?token=" + token_of(link)).status_code == 410


def test_resending_replaces_the_link_and_cancelling_revokes_it_and_takes_them_off(
        app, admin_client, admin, smtp_server, db):
    _, first = invite(app, admin_client, admin, smtp_server)
    membership_id = db.session.scalar(select(Membership.id).join(User).where(
        User.email_normalised == NEWCOMER))
    resent = post_form(admin_client, f"{users_url(admin.org)}{membership_id}/invitation/resend",
                       page_url=users_url(admin.org))
    assert resent.status_code == 303
    second = link_in(mails_after_jobs(app, smtp_server, 2)[1][1])
    visitor = app.test_client()
    assert "newer email replaced" in visitor.get(first).text
    assert visitor.get(second).status_code == 200
    cancelled = post_form(admin_client, f"{users_url(admin.org)}{membership_id}/invitation/cancel",
                          page_url=users_url(admin.org))
    assert cancelled.status_code == 303
    assert db.session.scalars(select(Membership.id).where(Membership.id == membership_id)).all() == []
    gone = visitor.get(second)
    assert gone.status_code == 410 and "invitation was cancelled" in gone.text
    assert set_password(visitor, second).status_code == 410
    assert find_user_by_email(NEWCOMER).password_hash is None
    assert audit_count(actions.INVITATION_RESENT) == 1 and audit_count(actions.INVITATION_CANCELLED) == 1


def test_an_invitation_for_a_person_since_removed_from_the_school_no_longer_works(
        app, admin_client, admin, smtp_server, db):
    _, link = invite(app, admin_client, admin, smtp_server)
    membership = db.session.scalar(select(Membership).join(User).where(
        User.email_normalised == NEWCOMER))
    post_form(admin_client, f"{users_url(admin.org)}{membership.id}/remove", {"confirmed": "1"},
              page_url=users_url(admin.org))
    visitor = app.test_client()
    assert "invitation was cancelled" in visitor.get(link).text
    assert set_password(visitor, link).status_code == 410


def test_a_person_who_can_already_sign_in_is_told_they_were_added_not_invited(
        app, admin_client, admin, smtp_server, factory):
    other = factory.organisation("Other School", "Oak Learning Trust")
    factory.user("trust.admin@school.example", [other], role="admin")
    assert add_person(admin_client, admin.org, "Trust.Admin@School.example").status_code == 302
    (recipients, message), = mails_after_jobs(app, smtp_server, 1)
    assert recipients == ["trust.admin@school.example"]
    assert message["Subject"] == f"You were added to {admin.org.name} on rostersync"
    assert "token=" not in message.as_string() and link_in(message) == "/login"
    assert db.session.scalars(select(OneTimeToken)).all() == []


def test_an_invitation_link_opened_while_signed_in_as_someone_else_changes_nothing(
        app, admin_client, admin, smtp_server):
    _, link = invite(app, admin_client, admin, smtp_server)
    page = admin_client.get(link)
    assert page.status_code == 409 and "for a different account" in page.text
    assert set_password(admin_client, link).status_code == 409
    assert find_user_by_email(NEWCOMER).password_hash is None
    assert app.test_client().get(link).status_code == 200  # still usable by its owner


@pytest.mark.parametrize("field, value, reason", [
    ("email", "x" * 10_000 + "@school.example", "at most 254 characters"),
    ("email", "two words@school.example", "no spaces"),
    # 215 characters typed, 415 in lower case (İ is two there): was a 500 from the column
    ("email", "\u0130" * 200 + "@school.example", "at most 254 characters"),
    ("display_name", "N" * 10_000, "at most 255 characters"),
    ("role", "owner", "Choose a role"),
])
def test_add_person_refuses_bad_input_next_to_the_field_and_keeps_what_was_typed(
        admin_client, admin, field, value, reason, smtp_server):
    form = {"email": "ok.person@school.example", "display_name": "Ok Person", "role": "admin",
            field: value}
    response = post_form(admin_client, users_url(admin.org), form, page_url=users_url(admin.org))
    assert response.status_code == 422 and reason in response.text
    assert 'aria-invalid="true"' in response.text
    if field != "email":
        assert 'value="ok.person@school.example"' in response.text
    assert db.session.scalars(select(OneTimeToken)).all() == []
    assert find_user_by_email("ok.person@school.example") is None


def test_an_address_with_mixed_case_spaces_and_unicode_is_one_account(
        app, admin_client, admin, smtp_server):
    typed = "  Zoë.Ångström@School.example "
    _, link = invite(app, admin_client, admin, smtp_server, typed)
    user = find_user_by_email("zoë.ångström@school.example")
    assert user is not None and user.email == typed.strip()
    # The same letters typed decomposed (e + combining diaeresis) find the same account.
    assert find_user_by_email("ZOE\u0308.A\u030aNGSTRÖM@SCHOOL.EXAMPLE").id == user.id
    assert smtp_server.messages[0][0] == [typed.strip()]
    set_password(app.test_client(), link)
    sign_in(app.test_client(), "zoe\u0308.a\u030angström@school.example", STRONG)


def test_user_create_without_a_password_sends_an_invitation_and_says_so(app, smtp_server):
    runner = app.test_cli_runner()
    runner.invoke(args=["org", "create", "A School"])
    result = runner.invoke(args=["user", "create", "head@school.example", "--org", "A School",
                                 "--admin"])
    assert result.exit_code == 0, result.output
    assert "We've emailed head@school.example an invitation to set a password" in result.output
    (recipients, message), = mails_after_jobs(app, smtp_server, 1)
    assert recipients == ["head@school.example"]
    assert "Your rostersync administrator added you to A School" in message.get_body(
        ("plain",)).get_content()
    assert app.test_client().get(link_in(message)).status_code == 200
    again = runner.invoke(args=["user", "create", "other@school.example", "--org", "A School",
                                "--password", "Operator-Chosen-Pass-1"])
    assert "emailed" not in again.output and len(mails_after_jobs(app, smtp_server, 1)) == 1


def test_a_password_the_operator_sets_later_closes_the_invitation(app, smtp_server):
    """The invitation's mail never came, so the operator set a password on the command line:
    the link still opened and set another password over the operator's, and Manage users
    still said Invited."""
    runner = app.test_cli_runner()
    runner.invoke(args=["org", "create", "A School"])
    runner.invoke(args=["user", "create", "head@school.example", "--org", "A School", "--admin"])
    (_, message), = mails_after_jobs(app, smtp_server, 1)
    link = link_in(message)
    result = runner.invoke(args=["user", "create", "head@school.example", "--org", "A School",
                                 "--admin", "--password", "Operator-Chosen-Pass-1"])
    assert result.exit_code == 0, result.output
    stale = app.test_client().get(link)
    assert stale.status_code == 410 and "password of this account was changed" in stale.text
    sign_in(app.test_client(), "head@school.example", "Operator-Chosen-Pass-1")


def test_with_mail_unset_outside_production_the_invitation_link_is_in_the_log(
        app, admin_client, admin, smtp_server):
    from tests.json_log import captured_json_log
    app.config["MAIL_SERVER"] = ""
    added = add_person(admin_client, admin.org)
    assert "written to the log" in admin_client.get(added.location).text
    with captured_json_log() as log:
        from tests.microsoft_flow import run_quick_jobs
        run_quick_jobs(app)
    lines = [line for line in log.getvalue().splitlines() if "Open this link" in line]
    assert len(lines) == 1 and "/invitation/?token=" in lines[0]
    token = lines[0].split("token=", 1)[1].split('"', 1)[0]
    assert app.test_client().get(f"/invitation/?token={token}").status_code == 200
    assert smtp_server.messages == []


def committed_token_hash(engine, token):
    """The invitation's hash as another connection sees it: what the link's page would read."""
    digest = hashlib.sha256(token.encode()).hexdigest()
    with engine.connect() as connection:
        return connection.scalar(select(OneTimeToken.token_hash)
                                 .where(OneTimeToken.token_hash == digest))


def test_the_link_works_the_moment_the_mail_server_has_the_mail(
        app, admin_client, admin, smtp_server):
    """The hash was once committed only after the send: a link opened at once was not found."""
    engine, seen = db.engine, []
    smtp_server.on_arrival = lambda message: seen.append(
        committed_token_hash(engine, token_of(link_in(message))))
    add_person(admin_client, admin.org)
    mails_after_jobs(app, smtp_server, 1)
    assert len(seen) == 1 and seen[0] is not None


def test_the_link_works_the_moment_the_log_shows_it(app, admin_client, admin, smtp_server):
    """What `make run` prints (its own test once opened the link and got Not found)."""
    app.config["MAIL_SERVER"] = ""
    seen = []

    class CheckAtOnce(logging.Handler):
        def emit(self, record):
            if "Open this link" in record.getMessage():
                token = record.getMessage().split("token=", 1)[1]
                seen.append(committed_token_hash(db.engine, token))
    handler = CheckAtOnce()
    logging.getLogger("webapp.notifications.account_mail").addHandler(handler)
    try:
        add_person(admin_client, admin.org)
        from tests.microsoft_flow import run_quick_jobs
        run_quick_jobs(app)
    finally:
        logging.getLogger("webapp.notifications.account_mail").removeHandler(handler)
    assert len(seen) == 1 and seen[0] is not None


def test_with_mail_unset_in_production_no_link_is_made_and_the_admin_is_told(
        app, admin_client, admin, smtp_server):
    from tests.json_log import captured_json_log
    app.config.update(MAIL_SERVER="", ENV_NAME="production")
    added = add_person(admin_client, admin.org)
    assert "no invitation could be sent" in admin_client.get(added.location).text
    with captured_json_log() as log:
        from tests.microsoft_flow import run_quick_jobs
        run_quick_jobs(app)
    assert "token=" not in log.getvalue() and "Open this link" not in log.getvalue()
    invitation = db.session.scalar(select(OneTimeToken))
    assert invitation.token_hash is None and invitation.sent_at is None
    assert "invitation not sent yet" in admin_client.get(users_url(admin.org)).text


def invitation_words(app, admin_client, admin, smtp_server):
    """(the flash the admin read, the invitation mail's text) after Add person."""
    added = add_person(admin_client, admin.org)
    flashed = admin_client.get(added.location).text
    text, _ = bodies(mails_after_jobs(app, smtp_server, 1)[0][1])
    return flashed, text


def test_an_invitation_offers_no_microsoft_sign_in_where_it_is_not_set_up(
        app, admin_client, admin, smtp_server):
    assert not app.config.get("MICROSOFT_CLIENT_ID")
    flashed, text = invitation_words(app, admin_client, admin, smtp_server)
    assert "an invitation to set a password; the link works once" in flashed
    assert "Open the link to choose a password. It works once" in text
    assert "Microsoft" not in text


def test_an_invitation_offers_microsoft_sign_in_where_it_is_set_up(
        app, admin_client, admin, smtp_server, microsoft):
    flashed, text = invitation_words(app, admin_client, admin, smtp_server)
    assert "an invitation to set a password (or sign in with Microsoft)" in flashed
    assert "or to sign in with your school Microsoft account instead" in text


def test_a_password_set_through_forgot_your_password_settles_the_invitation(
        app, admin_client, admin, smtp_server):
    """The invited person chose Forgot your password instead of their invitation's link: they
    are in, so Manage users no longer says Invited (whose Cancel would take them off the
    school), and the invitation's link no longer sets a password."""
    _, invitation = invite(app, admin_client, admin, smtp_server)
    visitor = app.test_client()
    post_page_form(visitor, "/forgot-password", "/forgot-password", {"email": NEWCOMER})
    reset_link = link_in(mails_after_jobs(app, smtp_server, 2)[1][1])
    done = post_page_form(visitor, reset_link, "/reset-password", {
        "token": token_of(reset_link), "password": STRONG, "confirmation": STRONG})
    assert done.status_code == 303
    listed = admin_client.get(users_url(admin.org)).text
    assert "Invited" not in listed and "Cancel invitation" not in listed
    used = app.test_client().get(invitation)
    assert used.status_code == 410 and "already been used" in used.text
