"""Forgot your password: the same answer (and the same queued work) whether or not the account
exists; a link valid one hour, usable once; the new password signs out every session; asking
is rate-limited per address typed and per network address."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.accounts.helpers import (STRONG, STRONGER, attempt_sign_in, audit_count, link_in,
                                    mails_after_jobs, post_page_form, token_of)
from harness.factory import sign_in
from webapp.audit import actions
from webapp.auth.models import OneTimeToken
from webapp.clock import frozen_at, utcnow
from webapp.extensions import db
from webapp.redis_conn import get_queue

STAFF = "staff.member@school.example"


@pytest.fixture
def staff(factory):
    return factory.user(STAFF, [factory.organisation("Hill School")], name="Staff Member")


def ask_for_link(client, email):
    return post_page_form(client, "/forgot-password", "/forgot-password", {"email": email})


def reset(client, link, password=STRONG, confirmation=None):
    return post_page_form(client, link, "/reset-password", {
        "token": token_of(link), "password": password,
        "confirmation": password if confirmation is None else confirmation})


def queued_jobs(app):
    return get_queue("quick", app).count


def test_an_unknown_address_gets_the_same_answer_and_no_mail(app, client, staff, smtp_server):
    answers = []
    for email in ("nobody@school.example", STAFF):
        before = queued_jobs(app)
        asked = ask_for_link(client, email)
        assert asked.status_code == 303 and asked.location == "/forgot-password/sent"
        assert queued_jobs(app) == before + 1  # the same work either way: one job, no lookup
        answers.append(client.get(asked.location).text.replace(email, "EMAIL"))
    assert answers[0] == answers[1] and "If an account exists for EMAIL" in answers[0]
    (recipients, message), = mails_after_jobs(app, smtp_server, 1)
    assert recipients == [STAFF] and message["Subject"] == "Choose a new rostersync password"
    assert len(smtp_server.messages) == 1  # nothing for the unknown address
    assert audit_count(actions.RESET_REQUESTED) == 2


def test_a_new_password_from_the_mail_refuses_the_old_and_signs_out_every_session(
        app, client, staff, smtp_server):
    other_tab = app.test_client()
    sign_in(other_tab, STAFF)
    assert other_tab.get("/", follow_redirects=True).status_code == 200
    ask_for_link(client, "  Staff.Member@SCHOOL.example ")
    link = link_in(mails_after_jobs(app, smtp_server, 1)[0][1])
    page = client.get(link)
    assert page.status_code == 200 and "Choose a new password" in page.text and STAFF in page.text
    refused = reset(client, link, "staffmember-hill")
    assert refused.status_code == 422 and "built from your name" in refused.text
    done = reset(client, link)
    assert done.status_code == 303 and done.location.startswith("/login?email=")
    assert "Your new password is set" in client.get(done.location).text
    assert attempt_sign_in(app.test_client(), STAFF, "password").status_code == 401
    sign_in(app.test_client(), STAFF, STRONG)
    signed_out = other_tab.get("/", follow_redirects=True)
    assert "/login" in signed_out.request.path
    assert "because your password was changed" in signed_out.text
    assert audit_count(actions.RESET_COMPLETED) == 1
    again = client.get(link)
    assert again.status_code == 410 and "already been used" in again.text
    assert reset(client, link, STRONGER).status_code == 410


@pytest.mark.both_databases  # SQLite gives stored times back without their zone
def test_a_link_expires_after_one_hour(app, client, staff, smtp_server):
    ask_for_link(client, STAFF)
    link = link_in(mails_after_jobs(app, smtp_server, 1)[0][1])
    with frozen_at(utcnow() + timedelta(hours=1, seconds=1)):
        expired = client.get(link)
        assert expired.status_code == 410 and "has expired" in expired.text
        assert "Ask for a new link" in expired.text
        assert reset(client, link).status_code == 410


def test_a_reset_link_used_after_the_password_was_changed_no_longer_works(
        app, client, staff, smtp_server):
    ask_for_link(client, STAFF)
    link = link_in(mails_after_jobs(app, smtp_server, 1)[0][1])
    signed_in = app.test_client()
    sign_in(signed_in, STAFF)
    changed = post_page_form(signed_in, "/account/security/", "/account/security/password", {
        "current": "password", "password": STRONG, "confirmation": STRONG})
    assert changed.status_code == 303
    stale = client.get(link)
    assert stale.status_code == 410 and "password of this account was changed" in stale.text
    assert reset(client, link, STRONGER).status_code == 410
    sign_in(app.test_client(), STAFF, STRONG)


def test_a_newer_request_replaces_the_older_link(app, client, staff, smtp_server):
    ask_for_link(client, STAFF)
    first = link_in(mails_after_jobs(app, smtp_server, 1)[0][1])
    ask_for_link(client, STAFF)
    second = link_in(mails_after_jobs(app, smtp_server, 2)[1][1])
    assert "newer email replaced" in client.get(first).text
    assert reset(client, second).status_code == 303


def test_a_reset_link_for_account_a_used_while_signed_in_as_b_changes_nothing(
        app, client, staff, factory, smtp_server):
    factory.user("b@school.example", [staff.active_memberships()[0].organisation])
    ask_for_link(client, STAFF)
    link = link_in(mails_after_jobs(app, smtp_server, 1)[0][1])
    b = app.test_client()
    sign_in(b, "b@school.example")
    assert b.get(link).status_code == 409
    refused = reset(b, link)
    assert refused.status_code == 409 and "for a different account" in refused.text
    assert db.session.scalar(select(OneTimeToken)).used_at is None
    sign_in(app.test_client(), STAFF, "password")


def test_truncated_tampered_and_invitation_links_are_refused_as_reset_links(
        app, client, staff, smtp_server):
    ask_for_link(client, STAFF)
    link = link_in(mails_after_jobs(app, smtp_server, 1)[0][1])
    for bad in (link[:-12], link[:-1] + ("A" if link[-1] != "A" else "B"),
                "/reset-password?token=" + "y" * 10_000, "/reset-password"):
        page = client.get(bad)
        assert page.status_code == 404 and "isn't complete" in page.text, bad
        assert "Ask for a new link" in page.text
    assert reset(client, link[:-12]).status_code == 404


def test_a_suspended_or_removed_account_gets_no_link(app, client, factory, smtp_server):
    org = factory.organisation("Hill School")
    factory.user("leaver@school.example", [org], status="suspended")
    factory.user("nowhere@school.example", [])
    for email in ("leaver@school.example", "nowhere@school.example"):
        assert ask_for_link(client, email).status_code == 303
    run_and_expect_no_mail(app, smtp_server)


def run_and_expect_no_mail(app, smtp_server):
    from tests.microsoft_flow import run_quick_jobs
    run_quick_jobs(app)
    assert smtp_server.messages == []


def test_requests_are_limited_per_address_typed_and_per_network_address(app, client, staff,
                                                                        smtp_server):
    per_account = app.config["PASSWORD_RESETS_PER_ACCOUNT"]
    for _ in range(per_account):
        assert ask_for_link(client, STAFF).status_code == 303
    before = queued_jobs(app)
    refused = ask_for_link(client, STAFF)
    assert refused.status_code == 429 and "Several links were asked for" in refused.text
    assert queued_jobs(app) == before
    app.config["PASSWORD_RESETS_PER_ADDRESS"] = per_account + 2
    for n in range(2):
        assert ask_for_link(client, f"guess{n}@school.example").status_code == 303
    from_network = ask_for_link(client, "someone.else@school.example")
    assert from_network.status_code == 429 and "from your network" in from_network.text


@pytest.mark.parametrize("email, reason", [
    ("not-an-address", "Enter the email address you sign in with"),
    ("x" * 10_000 + "@school.example", "at most 320 characters"),
])
def test_a_malformed_or_huge_address_is_refused_next_to_the_field(client, email, reason):
    before = queued_jobs(client.application)
    refused = ask_for_link(client, email)
    assert refused.status_code == 422 and reason in refused.text
    assert 'aria-invalid="true"' in refused.text
    assert queued_jobs(client.application) == before


def test_a_huge_password_is_refused_with_the_reason(app, client, staff, smtp_server):
    ask_for_link(client, STAFF)
    link = link_in(mails_after_jobs(app, smtp_server, 1)[0][1])
    refused = reset(client, link, "p" * 10_000)
    assert refused.status_code == 422 and "at most 128 characters" in refused.text
    assert client.get(link).status_code == 200  # not used up by the refusal


def test_a_password_the_operator_sets_on_the_command_line_signs_out_and_outdates_links(
        app, client, staff, smtp_server):
    """`user create EMAIL --password` on an existing account is a password reset by the operator:
    like any other, it ends the account's sessions and the reset links mailed before it."""
    ask_for_link(client, STAFF)
    link = link_in(mails_after_jobs(app, smtp_server, 1)[0][1])
    other_tab = app.test_client()
    sign_in(other_tab, STAFF)
    result = app.test_cli_runner().invoke(args=["user", "create", STAFF, "--org", "Hill School",
                                                "--password", STRONG])
    assert result.exit_code == 0, result.output
    signed_out = other_tab.get("/", follow_redirects=True)
    assert "/login" in signed_out.request.path
    assert "because your password was changed" in signed_out.text
    stale = client.get(link)
    assert stale.status_code == 410 and "password of this account was changed" in stale.text
    assert audit_count(actions.PASSWORD_CHANGED) == 1
    sign_in(app.test_client(), STAFF, STRONG)
