"""A one-time link's token exists in its email and nowhere else: not in the database (only its
SHA-256 hash), not in the logs, the audit log, Redis or an error report."""
import hashlib
import logging

from sqlalchemy import select

from tests.accounts.helpers import STRONG, link_in, mails_after_jobs, post_page_form, token_of
from harness.factory import post_form
from tests.json_log import captured_json_log
from tests.privacy.erasure_helpers import places_holding
from tests.security.test_no_secrets_leak import redis_dump
from webapp.auth.models import OneTimeToken
from webapp.error_reporting import scrub_event
from webapp.extensions import db


def test_invitation_and_reset_tokens_are_only_in_the_mail(app, admin_client, admin, smtp_server):
    users = f"/o/{admin.org.id}/settings/users/"
    with captured_json_log(logging.DEBUG) as log:
        post_form(admin_client, users, {"email": "invited@school.example", "role": "member"},
                  page_url=users)
        invitation = link_in(mails_after_jobs(app, smtp_server, 1)[0][1])
        visitor = app.test_client()
        visitor.get(invitation)
        post_page_form(visitor, invitation, "/invitation/", {
            "token": token_of(invitation), "password": STRONG, "confirmation": STRONG})
        post_page_form(visitor, "/forgot-password", "/forgot-password",
                       {"email": "invited@school.example"})
        reset = link_in(mails_after_jobs(app, smtp_server, 2)[1][1])
        visitor.get(reset)
    # The loopback SMTP server's own DEBUG lines (logger mail.log) are the mailbox receiving
    # the mail, not rostersync writing it down.
    app_log = "\n".join(line for line in log.getvalue().splitlines()
                        if '"logger": "mail.log"' not in line)
    for token in (token_of(invitation), token_of(reset)):
        assert token not in app_log
        assert places_holding(token) == []  # no text column of any table, the audit log included
        assert token not in redis_dump(app)
        digest = hashlib.sha256(token.encode()).hexdigest()
        assert db.session.scalar(select(OneTimeToken.id).where(OneTimeToken.token_hash == digest))


def test_an_error_report_masks_the_token_in_the_address():
    event = {"request": {"url": "https://rostersync.example.test/reset-password?token=abc123&x=1",
                         "query_string": "token=abc123&x=1"}}
    scrubbed = scrub_event(event)["request"]
    assert "abc123" not in scrubbed["url"] and "abc123" not in scrubbed["query_string"]
    assert scrubbed["query_string"].endswith("&x=1")
