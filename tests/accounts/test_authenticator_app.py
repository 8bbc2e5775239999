"""The authenticator app: turned on by one correct code computed (with pyotp) from the key the
set-up page shows; asked for after the password; 30-second steps with one step of drift, a code
used once, six digits only, this account's key only; guessing stopped by the lock-out; the key
encrypted at rest and covered by `keys rotate-token-cache`."""
import logging
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from harness.app_config import TEST_TOKEN_ENCRYPTION_KEY
from harness.factory import DEFAULT_PASSWORD
from tests.accounts.helpers import audit_count, post_page_form
from tests.accounts.two_step_helpers import (HEAD as EMAIL, MOMENT, SECURITY, code_at, codes_on,
                                             give_code, signed_in,
                                             give_recovery_code, is_signed_in, key_on,
                                             password_step, start_app_setup, text_of,
                                             turn_on_app, verify_setup)
from tests.json_log import captured_json_log
from webapp.audit import actions
from webapp.audit.models import AuditEntry
from webapp.auth.models import AccountSession
from webapp.clock import frozen_at
from webapp.extensions import db
from webapp.two_step import status
from webapp.two_step.models import AuthenticatorApp


@pytest.fixture
def with_app(app, head):
    """Hill School's head with the authenticator app on (set up at MOMENT); (key, codes)."""
    with frozen_at(MOMENT):
        return turn_on_app(signed_in(app))


@pytest.mark.both_databases  # binary key, and a set-up's age from a stored time
def test_the_app_is_turned_on_only_after_one_correct_code(app, head):
    client = signed_in(app)
    with frozen_at(MOMENT):
        page = start_app_setup(client)
        assert "Can't scan? Enter this key" in text_of_page(page)
        assert '<div class="qr" role="img" aria-label="QR code' in page and "<svg" in page
        assert 'autocomplete="one-time-code"' in page
        key = key_on(page)
        refused = verify_setup(client, "000000" if code_at(key, MOMENT) != "000000" else "111111")
        assert refused.status_code == 422 and "That code is not right" in text_of(refused)
        assert not status.is_on(head)
        turned_on = verify_setup(client, code_at(key, MOMENT))
    assert turned_on.status_code == 200 and "Two-step verification is on" in turned_on.text
    assert turned_on.headers["Cache-Control"] == "no-store"
    assert status.is_on(head) and audit_count(actions.TWO_STEP_APP_ADDED) == 1
    assert "Set up on a new phone" in client.get(SECURITY).text


def text_of_page(page):
    return page.replace("&#39;", "'")


def test_sign_in_asks_for_the_code_after_the_password_and_nothing_is_reachable_meanwhile(
        app, with_app):
    key, _ = with_app
    client = app.test_client()
    with frozen_at(MOMENT + timedelta(minutes=5)) as clock:
        asked = password_step(client, EMAIL)
        assert asked.status_code == 302 and asked.location == "/login/two-step"
        page = client.get("/login/two-step").text
        assert "Verification code" in page and "Use a recovery code" in page
        # Half signed in: no other route honours it.
        for url in ("/", SECURITY, "/account/security/two-step/set-up"):
            assert client.get(url).location.startswith("/login"), url
        done = give_code(client, code_at(key, clock.now))
    assert done.status_code == 302 and done.location == "/"
    assert is_signed_in(client)
    row = db.session.scalar(select(AccountSession).order_by(AccountSession.id.desc()))
    assert (row.method, row.second_step) == ("password", "app")
    assert "Password and authenticator app" in client.get(SECURITY).text


def test_one_step_of_drift_either_way_is_accepted_but_not_a_code_three_steps_old(
        app, with_app):
    key, _ = with_app
    later = MOMENT + timedelta(hours=1)
    with frozen_at(later):
        for steps in (-3, -2, 2):
            client = app.test_client()
            password_step(client, EMAIL)
            refused = give_code(client, code_at(key, later, steps))
            assert refused.status_code == 401 and "That code is not right" in text_of(refused)
        for steps in (-1, 1):  # a phone whose clock is half a minute out either way
            client = app.test_client()
            password_step(client, EMAIL)
            assert give_code(client, code_at(key, later, steps)).status_code == 302, steps


@pytest.mark.both_databases  # the conditional update of the last step used
def test_a_code_cannot_be_used_twice(app, with_app):
    key, _ = with_app
    moment = MOMENT + timedelta(hours=2)
    with frozen_at(moment):
        first = app.test_client()
        password_step(first, EMAIL)
        assert give_code(first, code_at(key, moment)).status_code == 302
        again = app.test_client()
        password_step(again, EMAIL)
        refused = give_code(again, code_at(key, moment))
        assert refused.status_code == 401 and not is_signed_in(again)
        # Nor an older one still inside the drift window, once a newer one was taken.
        assert give_code(again, code_at(key, moment, -1)).status_code == 401


def test_a_code_of_seven_digits_or_with_letters_is_refused_as_not_a_code(app, with_app):
    client = app.test_client()
    with frozen_at(MOMENT + timedelta(hours=3)):
        password_step(client, EMAIL)
        for typed in ("1234567", "12345a", ""):
            refused = give_code(client, typed)
            assert refused.status_code == 422, typed
            assert "A verification code has 6 digits" in text_of(refused)
    assert audit_count(actions.SIGN_IN_FAILED) == 0  # what cannot be a code is not a guess


def test_a_code_from_another_accounts_key_is_refused(app, factory, with_app):
    factory.user("deputy@hill.example", [factory.organisation("Dale School")], role="admin")
    moment = MOMENT + timedelta(hours=4)
    with frozen_at(MOMENT):
        other_key, _ = turn_on_app(signed_in(app, "deputy@hill.example"))
    key, _ = with_app
    while code_at(other_key, moment) == code_at(key, moment):  # one chance in a million
        moment += timedelta(seconds=30)
    with frozen_at(moment):
        client = app.test_client()
        password_step(client, EMAIL)
        assert give_code(client, code_at(other_key, moment)).status_code == 401
        assert give_code(client, code_at(key, moment)).status_code == 302


def test_guessing_the_code_is_stopped_by_the_lockout_long_before_a_million_tries(app, with_app):
    key, _ = with_app
    moment = MOMENT + timedelta(hours=5)
    right = code_at(key, moment)
    limit = app.config["LOGIN_FAILURES_PER_ACCOUNT"]
    client, tries = app.test_client(), 0
    with frozen_at(moment):
        password_step(client, EMAIL)
        for guess in (f"{n:06d}" for n in range(10**6)):
            if guess == right:
                continue
            tries += 1
            answer = give_code(client, guess)
            if answer.status_code == 429:
                break
            # A correct password again does not clear the count of wrong codes.
            password_step(client, EMAIL)
        assert tries == limit + 1 and "Too many wrong attempts" in text_of(answer)
        assert give_code(client, right).status_code == 429  # even the right code, meanwhile
        assert password_step(app.test_client(), EMAIL).status_code == 429
    assert audit_count(actions.SIGN_IN_FAILED) >= limit


def test_the_second_step_without_the_password_step_sends_to_the_sign_in_page(app, with_app):
    client = app.test_client()
    assert client.get("/login/two-step").location == "/login"
    refused = post_page_form(client, "/login", "/login/two-step", {"code": "123456"})
    assert refused.status_code == 303 and refused.location == "/login"
    options = post_page_form(client, "/login", "/login/two-step/passkey/options", {})
    assert options.status_code == 401 and options.json["error"].startswith("Sign in with")
    recovery = post_page_form(client, "/login", "/login/two-step/recovery",
                              {"recovery_code": "abcd-efgh-jkmn-pqrs"})
    assert recovery.location == "/login" and not is_signed_in(client)


def test_a_second_step_waits_ten_minutes_only(app, with_app):
    key, _ = with_app
    client = app.test_client()
    with frozen_at(MOMENT + timedelta(hours=6)) as clock:
        password_step(client, EMAIL)
        clock.advance(minutes=11)
        late = give_code(client, code_at(key, clock.now))
    assert late.location == "/login" and not is_signed_in(client)


def test_the_key_is_encrypted_at_rest_and_key_rotation_reencrypts_it(app, with_app):
    key, _ = with_app
    row = db.session.scalar(select(AuthenticatorApp))
    assert key.encode() not in bytes(row.secret_encrypted)
    assert Fernet(TEST_TOKEN_ENCRYPTION_KEY).decrypt(bytes(row.secret_encrypted)) == key.encode()
    new_key = Fernet.generate_key().decode()
    app.config["TOKEN_ENCRYPTION_KEY"] = f"{new_key},{TEST_TOKEN_ENCRYPTION_KEY}"
    result = app.test_cli_runner().invoke(args=["keys", "rotate-token-cache"])
    assert result.exit_code == 0 and "and 1 authenticator app key with" in result.output
    app.config["TOKEN_ENCRYPTION_KEY"] = new_key  # the old key is gone: it still works
    db.session.expire_all()
    assert Fernet(new_key).decrypt(bytes(db.session.scalar(select(
        AuthenticatorApp.secret_encrypted)))) == key.encode()
    moment = MOMENT + timedelta(hours=7)
    with frozen_at(moment):
        client = app.test_client()
        password_step(client, EMAIL)
        assert give_code(client, code_at(key, moment)).status_code == 302


def test_rotation_names_the_accounts_whose_key_no_configured_key_reads(app, head, with_app):
    app.config["TOKEN_ENCRYPTION_KEY"] = Fernet.generate_key().decode()
    result = app.test_cli_runner().invoke(args=["keys", "rotate-token-cache"])
    assert result.exit_code == 1
    assert f"account ids: {head.id}" in result.output and "reset-two-step" in result.output


def test_turning_it_off_asks_for_the_password_again(app, with_app):
    client = signed_in_with_code(app, with_app[0], MOMENT + timedelta(hours=8))
    refused = post_page_form(client, SECURITY, "/account/security/two-step/off",
                             {"password": "not-my-password"})
    assert refused.status_code == 422 and "That password or code is not right" in text_of(refused)
    empty = post_page_form(client, SECURITY, "/account/security/two-step/off", {})
    assert empty.status_code == 422 and "type your password" in text_of(empty)
    assert audit_count(actions.TWO_STEP_TURNED_OFF) == 0
    done = post_page_form(client, SECURITY, "/account/security/two-step/off",
                          {"password": "password"})
    assert done.status_code == 303 and audit_count(actions.TWO_STEP_TURNED_OFF) == 1
    assert "Two-step verification is off" in client.get(done.location).text
    assert password_step(app.test_client(), EMAIL).location == "/"


def test_turning_it_off_with_a_current_code_instead_of_the_password(app, head, with_app):
    key, _ = with_app
    moment = MOMENT + timedelta(hours=9)
    client = signed_in_with_code(app, key, moment)
    with frozen_at(moment + timedelta(seconds=30)) as clock:
        done = post_page_form(client, SECURITY, "/account/security/two-step/off",
                              {"confirm_code": code_at(key, clock.now)})
    assert done.status_code == 303 and not status.is_on(head)


def signed_in_with_code(app, key, moment):
    client = app.test_client()
    with frozen_at(moment):
        password_step(client, EMAIL)
        assert give_code(client, code_at(key, moment)).status_code == 302
    return client


def test_setting_up_a_new_phone_replaces_the_old_app_only_once_verified(app, with_app):
    old_key, _ = with_app
    moment = MOMENT + timedelta(hours=10)
    client = signed_in_with_code(app, old_key, moment)
    with frozen_at(moment + timedelta(minutes=1)) as clock:
        new_key = key_on(start_app_setup(client, password=DEFAULT_PASSWORD))
        assert new_key != old_key
        assert "Until you verify, the app you set up before keeps working" in client.get(
            "/account/security/authenticator").text
        other = signed_in_with_code(app, old_key, clock.advance(minutes=1))  # still the old one
        assert is_signed_in(other)
        done = verify_setup(client, code_at(new_key, clock.now))
    assert done.status_code == 303
    assert "Codes from the app you set up before no longer work" in client.get(done.location).text
    assert len(db.session.scalars(select(AuthenticatorApp)).all()) == 1
    assert db.session.scalar(select(AuditEntry.after).where(
        AuditEntry.action == actions.TWO_STEP_APP_ADDED).order_by(AuditEntry.id.desc())) == \
        '{"replaced_earlier_app": true}'


def test_a_new_phone_asks_for_the_password_or_a_code_from_the_app_that_works_now(app, with_app):
    """A session alone (a stolen cookie) set up its own app over the owner's, and that app's
    codes then passed every "confirm it's you": new recovery codes, two-step off, the owner
    locked out. Replacing the app now asks first, as removing it does."""
    old_key, _ = with_app
    moment = MOMENT + timedelta(hours=10)
    client = signed_in_with_code(app, old_key, moment)
    with frozen_at(moment + timedelta(minutes=1)) as clock:
        for confirmation in ({}, {"password": "not-the-password"}):
            refused = post_page_form(client, SECURITY, "/account/security/authenticator/start",
                                     confirmation)
            assert refused.status_code == 422
            assert 'id="new_phone-error"' in refused.text
        assert client.get("/account/security/authenticator").status_code == 303  # none started
        assert len(db.session.scalars(select(AuthenticatorApp)).all()) == 1
        clock.advance(seconds=30)
        new_key = key_on(start_app_setup(client, confirm_code=code_at(old_key, clock.now)))
    assert new_key != old_key


def test_no_key_or_code_reaches_an_audit_entry_or_the_log(app, head):
    with captured_json_log(logging.DEBUG) as log, frozen_at(MOMENT):
        client = signed_in(app)
        key = key_on(start_app_setup(client))
        code = code_at(key, MOMENT)
        codes = codes_on(verify_setup(client, code).text)
        second = app.test_client()
        password_step(second, EMAIL)
        give_code(second, "123456" if code != "123456" else "654321")
        give_recovery_code(second, codes[0])
    entries = " ".join(f"{e.action} {e.before} {e.after} {e.subject_label}"
                       for e in db.session.scalars(select(AuditEntry)))
    assert audit_count(actions.RECOVERY_CODE_USED) == 1
    for secret in (key, code, *codes, *(c.replace("-", "") for c in codes)):
        assert secret not in entries and secret not in log.getvalue(), secret


def test_turning_it_on_signs_out_the_accounts_other_sessions_and_keeps_this_one(app, head):
    """They began with the password alone: whoever had learnt it would otherwise stay in."""
    phone, here = signed_in(app), signed_in(app)
    with frozen_at(MOMENT):
        key = key_on(start_app_setup(here))
        turned_on = verify_setup(here, code_at(key, MOMENT))
    assert turned_on.status_code == 200
    assert ("your account's 1 other session signed in with the password alone was signed out"
            in text_of(turned_on))
    assert is_signed_in(here)
    answer = phone.get("/", follow_redirects=True)
    assert answer.request.path == "/login"
    assert "two-step verification was turned on for your account" in text_of(answer)
    assert audit_count(actions.OTHER_SESSIONS_SIGNED_OUT) == 1
    later = signed_in_with_code(app, key, MOMENT + timedelta(minutes=1))
    with frozen_at(MOMENT + timedelta(minutes=2)):  # a new phone: two-step was on already
        new_key = key_on(start_app_setup(
            here, confirm_code=code_at(key, MOMENT + timedelta(minutes=2))))
        assert verify_setup(here, code_at(new_key, MOMENT + timedelta(minutes=2))).status_code == 303
    assert is_signed_in(later) and audit_count(actions.OTHER_SESSIONS_SIGNED_OUT) == 1
