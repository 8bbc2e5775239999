"""Passkeys through the real routes and py_webauthn, answered by a software authenticator
(tests/accounts/soft_authenticator.py): added with a name, listed with when they were added and
last used, several per account, removable; asked for after the password. Refused: another
origin, another challenge, a challenge used twice, a counter that goes backwards, no user
verification, another account's passkey or challenge. PUBLIC_URL here is
https://rostersync.example.test (tests/accounts/conftest.py)."""
import json
import logging

import pytest
from sqlalchemy import func, select
from webauthn.helpers import bytes_to_base64url

from tests.accounts.helpers import audit_count, post_page_form
from tests.accounts.soft_authenticator import SoftAuthenticator
from tests.accounts.two_step_helpers import (HEAD as EMAIL, SECURITY, codes_on, is_signed_in,
                                             password_step, signed_in, text_of)
from tests.json_log import captured_json_log
from webapp.audit import actions
from webapp.audit.models import AuditEntry
from webapp.auth.models import AccountSession
from webapp.extensions import db
from webapp.two_step import status
from webapp.two_step.models import Passkey

ORIGIN = "https://rostersync.example.test"
OTHER = "deputy@dale.example"


@pytest.fixture
def deputy(factory):
    return factory.user(OTHER, [factory.organisation("Dale School")], role="admin")


def registration_options(client, name="Office laptop"):
    answer = post_page_form(client, SECURITY, "/account/security/passkeys/options", {"name": name})
    assert answer.status_code == 200, answer.text
    return answer.get_data(as_text=True)


def finish_registration(client, credential):
    return post_page_form(client, SECURITY, "/account/security/passkeys",
                          {"credential": credential})


def add_passkey(client, authenticator, name="Office laptop", **bent):
    return finish_registration(client, authenticator.register(registration_options(client, name),
                                                               **bent))


def sign_in_options(client):
    answer = post_page_form(client, "/login/two-step", "/login/two-step/passkey/options", {})
    assert answer.status_code == 200, answer.text
    return answer.get_data(as_text=True)


def give_passkey(client, credential):
    return post_page_form(client, "/login/two-step", "/login/two-step/passkey",
                          {"credential": credential})


def flashed(client, response):
    assert response.status_code == 303, response.status_code
    return text_of(client.get(response.location))


def passkey_count():
    return db.session.scalar(select(func.count()).select_from(Passkey))


@pytest.fixture
def laptop(app, head):
    """Hill School's head with one passkey, "Office laptop"; the authenticator that holds it."""
    authenticator = SoftAuthenticator(ORIGIN)
    added = add_passkey(signed_in(app), authenticator)
    assert added.status_code == 200 and len(codes_on(added.text)) == 10
    return authenticator


def test_a_named_passkey_turns_two_step_on_and_is_asked_for_after_the_password(app, head):
    client, authenticator = signed_in(app), SoftAuthenticator(ORIGIN)
    options = json.loads(registration_options(client))
    assert options["rp"] == {"name": "rostersync", "id": "rostersync.example.test"}
    assert options["authenticatorSelection"]["userVerification"] == "required"
    added = finish_registration(client, authenticator.register(json.dumps(options)))
    assert added.status_code == 200 and len(codes_on(added.text)) == 10
    assert "Passkey “Office laptop” added. Two-step verification is on." in text_of(added)
    page = text_of(client.get(SECURITY))
    assert "Office laptop" in page and "— added " in page and "not used yet" in page
    assert audit_count(actions.PASSKEY_ADDED) == 1

    browser = app.test_client()
    assert password_step(browser, EMAIL).location == "/login/two-step"
    assert "Use a passkey" in browser.get("/login/two-step").text
    options = json.loads(sign_in_options(browser))
    assert options["userVerification"] == "required" and options["rpId"] == "rostersync.example.test"
    assert [c["id"] for c in options["allowCredentials"]] == [
        bytes_to_base64url(authenticator.credential_id)]
    done = give_passkey(browser, authenticator.assert_(json.dumps(options)))
    assert done.status_code == 302 and is_signed_in(browser)
    row = db.session.scalar(select(AccountSession).order_by(AccountSession.id.desc()))
    assert row.second_step == "passkey"
    assert "last used" in text_of(browser.get(SECURITY))


def test_several_passkeys_each_removable_the_last_only_with_the_password(app, head, laptop):
    client = signed_in_with_passkey(app, laptop)
    phone = SoftAuthenticator(ORIGIN)
    assert "Passkey “Work phone” added." in flashed(client, add_passkey(client, phone, "Work phone"))
    assert passkey_count() == 2
    first, second = db.session.scalars(select(Passkey).order_by(Passkey.id)).all()
    removed = post_page_form(client, SECURITY, f"/account/security/passkeys/{first.id}/remove", {})
    assert "Passkey “Office laptop” removed." in flashed(client, removed)
    last = f"/account/security/passkeys/{second.id}/remove"
    refused = post_page_form(client, SECURITY, last, {})
    assert refused.status_code == 422 and "type your password" in text_of(refused)
    assert passkey_count() == 1
    done = post_page_form(client, SECURITY, last, {"password": "password"})
    assert "Two-step verification is now off." in flashed(client, done)
    assert not status.is_on(head) and audit_count(actions.TWO_STEP_TURNED_OFF) == 1


def signed_in_with_passkey(app, authenticator, email=EMAIL):
    client = app.test_client()
    password_step(client, email)
    assert give_passkey(client, authenticator.assert_(sign_in_options(client))).status_code == 302
    return client


def test_a_registration_for_another_origin_or_challenge_or_replayed_is_refused(app, head):
    client, authenticator = signed_in(app), SoftAuthenticator(ORIGIN)
    wrong_origin = add_passkey(client, authenticator, origin="https://rostersync.example.test.evil.example")
    assert "another web address (https://rostersync.example.test.evil.example)" in flashed(
        client, wrong_origin)
    wrong_challenge = add_passkey(client, authenticator, challenge="bm90LXRoZS1jaGFsbGVuZ2U")
    assert "That answer was for another passkey request" in flashed(client, wrong_challenge)
    no_verification = add_passkey(client, authenticator, verified=False)
    assert "did not check it was you" in flashed(client, no_verification)
    assert passkey_count() == 0
    credential = authenticator.register(registration_options(client))
    assert finish_registration(client, credential).status_code == 200
    replayed = finish_registration(client, credential)
    assert "expired or was already used" in flashed(client, replayed)
    assert passkey_count() == 1


@pytest.mark.both_databases  # a unique binary credential id
def test_a_registration_made_for_another_account_is_refused(app, head, deputy):
    head_client, deputy_client = signed_in(app), signed_in(app, OTHER)
    stolen = SoftAuthenticator(ORIGIN).register(registration_options(head_client))
    registration_options(deputy_client)  # the deputy's own challenge is another one
    assert "another passkey request" in flashed(deputy_client,
                                                finish_registration(deputy_client, stolen))
    # One device's passkey belongs to one account: the same credential again is refused.
    shared = SoftAuthenticator(ORIGIN)
    assert add_passkey(head_client, shared).status_code == 200
    assert "already added to a rostersync account" in flashed(deputy_client,
                                                              add_passkey(deputy_client, shared))
    assert db.session.scalar(select(func.count()).select_from(Passkey).where(
        Passkey.user_id == deputy.id)) == 0


def test_an_assertion_for_another_origin_or_challenge_or_replayed_is_refused(app, laptop):
    browser = app.test_client()
    password_step(browser, EMAIL)
    for bent, words in (({"origin": "https://evil.example"}, "another web address"),
                        ({"challenge": "bm90LXRoZS1jaGFsbGVuZ2U"}, "another passkey request"),
                        ({"verified": False}, "did not check it was you")):
        refused = give_passkey(browser, laptop.assert_(sign_in_options(browser), **bent))
        assert refused.status_code == 401 and words in text_of(refused), bent
    good = laptop.assert_(sign_in_options(browser))
    again = app.test_client()
    password_step(again, EMAIL)
    sign_in_options(again)  # a challenge of its own, which the replay does not answer
    assert give_passkey(again, good).status_code == 401
    assert give_passkey(browser, good).status_code == 302
    replayed = app.test_client()
    password_step(replayed, EMAIL)
    assert "expired or was already used" in text_of(give_passkey(replayed, good))
    assert not is_signed_in(replayed) and not is_signed_in(again)


@pytest.mark.both_databases  # the conditional update of the counter
def test_a_signature_counter_that_goes_backwards_is_refused(app, laptop):
    browser = app.test_client()
    password_step(browser, EMAIL)
    assert give_passkey(browser, laptop.assert_(sign_in_options(browser), count=5)).status_code == 302
    copy = app.test_client()
    password_step(copy, EMAIL)
    refused = give_passkey(copy, laptop.assert_(sign_in_options(copy), count=3))
    assert refused.status_code == 401 and "use counter went backwards" in text_of(refused)
    assert db.session.scalar(select(Passkey.sign_count)) == 5
    same = app.test_client()
    password_step(same, EMAIL)
    assert give_passkey(same, laptop.assert_(sign_in_options(same), count=5)).status_code == 401


def test_another_accounts_passkey_is_refused_at_sign_in(app, head, deputy, laptop):
    deputys = SoftAuthenticator(ORIGIN)
    add_passkey(signed_in(app, OTHER), deputys)
    browser = app.test_client()
    password_step(browser, EMAIL)
    refused = give_passkey(browser, deputys.assert_(sign_in_options(browser)))
    assert refused.status_code == 401 and "not one of this account's" in text_of(refused)
    # The head's own passkey claiming to be made for the deputy's account is refused too.
    forged = laptop.assert_(sign_in_options(browser), user_handle=deputys.user_handle)
    assert give_passkey(browser, forged).status_code == 401
    assert not is_signed_in(browser)
    assert audit_count(actions.SIGN_IN_FAILED) == 2


def test_passkeys_need_a_public_url_with_a_domain_and_the_page_says_so(app, head):
    app.config["PUBLIC_URL"] = "http://127.0.0.1:5000"
    client = signed_in(app)
    page = text_of(client.get(SECURITY))
    assert "Passkeys need this installation's PUBLIC_URL to be its web address with a domain" in page
    answer = post_page_form(client, SECURITY, "/account/security/passkeys/options",
                            {"name": "Office laptop"})
    assert answer.status_code == 503 and "PUBLIC_URL" in answer.json["error"]


def test_a_name_is_needed_and_at_most_64_characters(app, head):
    client = signed_in(app)
    for name, words in (("", "Give the passkey a name"), ("x" * 65, "at most 64 characters")):
        answer = post_page_form(client, SECURITY, "/account/security/passkeys/options",
                                {"name": name})
        assert answer.status_code == 422 and words in answer.json["error"]
        assert answer.json["field"] == "name"


def test_no_challenge_or_credential_reaches_the_log_or_an_audit_entry(app, head):
    authenticator = SoftAuthenticator(ORIGIN)
    with captured_json_log(logging.DEBUG) as log:
        client = signed_in(app)
        options = registration_options(client)
        finish_registration(client, authenticator.register(options))
        browser = app.test_client()
        password_step(browser, EMAIL)
        sign_in_options_text = sign_in_options(browser)
        give_passkey(browser, authenticator.assert_(sign_in_options_text, origin="https://evil.example"))
    secrets_seen = [json.loads(options)["challenge"], json.loads(sign_in_options_text)["challenge"],
                    bytes_to_base64url(authenticator.credential_id)]
    entries = " ".join(f"{e.before} {e.after} {e.subject_label}"
                       for e in db.session.scalars(select(AuditEntry)))
    assert "passkey authentication refused for account" in log.getvalue()
    for secret in secrets_seen:
        assert secret not in log.getvalue() and secret not in entries


def test_a_first_passkey_signs_out_the_accounts_other_sessions(app, head):
    other, here = signed_in(app), signed_in(app)
    added = add_passkey(here, SoftAuthenticator(ORIGIN))
    assert added.status_code == 200
    assert "1 other session signed in with the password alone was signed out" in text_of(added)
    assert not is_signed_in(other) and is_signed_in(here)
