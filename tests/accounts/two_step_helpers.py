"""Driving two-step verification as a person does: the key is read from the set-up page and the
codes computed from it with pyotp at the moment the app's clock (webapp.clock.frozen_at) says."""
import html
import re
from datetime import datetime, timedelta, timezone

import pyotp

from harness.factory import csrf_token_from, sign_in
from tests.accounts.helpers import post_page_form

SECURITY = "/account/security/"
HEAD = "head@hill.example"  # the `head` fixture's account (tests/accounts/conftest.py)


def _ten_seconds_into_this_step():
    """Today (sessions made at it stay good once the test's clock runs on), 10 seconds into a
    30-second step, so that one step either way is unambiguous."""
    now = datetime.now(timezone.utc).replace(microsecond=0)
    return now - timedelta(seconds=int(now.timestamp()) % 30 - 10)


MOMENT = _ten_seconds_into_this_step()


def key_on(page_text):
    """The key the set-up page shows as text ("Can't scan? Enter this key"), spaces removed."""
    match = re.search(r'id="setup-key"[^>]*value="([^"]+)"', page_text)
    assert match, "the set-up page shows no key"
    return match.group(1).replace(" ", "")


def codes_on(page_text):
    """The recovery codes a page shows (only the page that makes them does)."""
    return re.findall(r"<li><code>([0-9a-z-]{19})</code></li>", page_text)


def code_at(key, moment, steps=0):
    return pyotp.TOTP(key).at(moment, counter_offset=steps)


def signed_in(app, email=HEAD):
    """A browser signed in with the password alone (the account has no two-step yet)."""
    client = app.test_client()
    sign_in(client, email)
    return client


def start_app_setup(client, **confirmation):
    """Presses Set up authenticator app (Set up on a new phone, with confirmation: password=
    or confirm_code=); returns the set-up page's text."""
    response = post_page_form(client, SECURITY, "/account/security/authenticator/start",
                              confirmation)
    assert response.status_code == 303, response.status_code
    return client.get(response.location).text


def verify_setup(client, code):
    page = client.get("/account/security/authenticator")
    return client.post("/account/security/authenticator",
                       data={"csrf_token": csrf_token_from(page.text), "code": code})


def turn_on_app(client, moment=MOMENT):
    """Sets up the authenticator app at `moment`; returns (key, the recovery codes shown)."""
    key = key_on(start_app_setup(client))
    answer = verify_setup(client, code_at(key, moment))
    assert answer.status_code == 200, answer.text
    return key, codes_on(answer.text)


def password_step(client, email, password="password"):
    """The sign-in form; for an account with two-step it answers with the second step."""
    return post_page_form(client, "/login", "/login", {"email": email, "password": password})


def give_code(client, code):
    return post_page_form(client, "/login/two-step", "/login/two-step", {"code": code})


def give_recovery_code(client, code):
    return post_page_form(client, "/login/two-step/recovery", "/login/two-step/recovery",
                          {"recovery_code": code})


def is_signed_in(client):
    return client.get("/account/security/").status_code == 200


def text_of(response):
    return html.unescape(response.get_data(as_text=True))
