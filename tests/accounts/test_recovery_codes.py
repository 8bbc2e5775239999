"""Recovery codes: ten, shown once when two-step is turned on, kept as hashes, each good for one
sign-in; Generate new recovery codes asks for the password again and replaces them all; the
page says how many are left."""
import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.accounts.helpers import audit_count, post_page_form
from tests.accounts.two_step_helpers import (HEAD as EMAIL, MOMENT, SECURITY, code_at, codes_on,
                                             give_recovery_code, is_signed_in, password_step,
                                             signed_in, text_of, turn_on_app)
from webapp.audit import actions
from webapp.audit.models import AuditEntry
from webapp.clock import frozen_at
from webapp.extensions import db
from webapp.two_step.models import RecoveryCode
from webapp.two_step.recovery_codes import hash_of, normalised


@pytest.fixture
def turned_on(app, head):
    client = signed_in(app)
    with frozen_at(MOMENT):
        key, codes = turn_on_app(client)
    return client, key, codes


def with_recovery_code(app, code):
    client = app.test_client()
    password_step(client, EMAIL)
    return client, give_recovery_code(client, code)


def test_ten_codes_are_shown_once_and_kept_only_as_hashes(turned_on):
    client, _, codes = turned_on
    assert len(codes) == len(set(codes)) == 10
    stored = set(db.session.scalars(select(RecoveryCode.code_hash)))
    assert stored == {hashlib.sha256(code.replace("-", "").encode()).hexdigest() for code in codes}
    page = client.get(SECURITY).text
    assert "10 of your 10 recovery codes are left" in page
    assert not any(code in page for code in codes)
    assert audit_count(actions.RECOVERY_CODES_GENERATED) == 1


def test_a_recovery_code_signs_in_once_however_it_is_typed(app, turned_on):
    _, _, codes = turned_on
    client, done = with_recovery_code(app, f"  {codes[0].upper().replace('-', ' ')} ")
    assert done.status_code == 302
    page = text_of(client.get(SECURITY))  # signed in, and told what is left
    assert "You signed in with a recovery code; 9 of your codes are left" in page
    assert "9 of your 10 recovery codes are left" in page
    again, refused = with_recovery_code(app, codes[0])
    assert refused.status_code == 401 and "or it was used already" in text_of(refused)
    assert not is_signed_in(again)
    assert db.session.scalar(select(AuditEntry.after).where(
        AuditEntry.action == actions.RECOVERY_CODE_USED)) == '{"left": 9}'


def test_generating_new_codes_asks_for_the_password_and_replaces_them_all(app, turned_on):
    client, key, old = turned_on
    refused = post_page_form(client, SECURITY, "/account/security/recovery-codes",
                             {"password": "wrong password"})
    assert refused.status_code == 422 and "That password or code is not right" in text_of(refused)
    made = post_page_form(client, SECURITY, "/account/security/recovery-codes",
                          {"password": "password"})
    new = codes_on(made.text)
    assert made.status_code == 200 and made.headers["Cache-Control"] == "no-store"
    assert len(new) == 10 and not set(new) & set(old)
    assert "Your earlier recovery codes no longer work" in made.text
    assert with_recovery_code(app, old[1])[1].status_code == 401
    assert with_recovery_code(app, new[1])[1].status_code == 302


def test_new_codes_with_a_current_code_from_the_app_instead_of_the_password(app, turned_on):
    client, key, _ = turned_on
    later = MOMENT + timedelta(minutes=2)
    with frozen_at(later):
        made = post_page_form(client, SECURITY, "/account/security/recovery-codes",
                              {"confirm_code": code_at(key, later)})
    assert made.status_code == 200 and len(codes_on(made.text)) == 10


def test_wrong_recovery_codes_count_towards_the_lockout(app, turned_on):
    _, _, codes = turned_on
    client = app.test_client()
    password_step(client, EMAIL)
    for guess in range(app.config["LOGIN_FAILURES_PER_ACCOUNT"]):
        assert give_recovery_code(client, f"aaaa-bbbb-cccc-{guess:04d}").status_code == 401
    locked = give_recovery_code(client, codes[2])
    assert locked.status_code == 429 and "Too many wrong attempts" in text_of(locked)


def _reset_password_by_mail(app, smtp_server):
    from tests.accounts.helpers import STRONG, link_in, mails_after_jobs, token_of
    owner = app.test_client()
    post_page_form(owner, "/forgot-password", "/forgot-password", {"email": EMAIL})
    link = link_in(mails_after_jobs(app, smtp_server, 1)[0][1])
    assert post_page_form(owner, link, "/reset-password", {
        "token": token_of(link), "password": STRONG, "confirmation": STRONG}).status_code == 303


def test_a_sign_in_begun_with_the_old_password_ends_when_the_password_is_reset(
        app, head, smtp_server):
    """Whoever had the old password and took the first step could finish with a recovery
    code after the owner reset it (and the reset had cleared the lock-out, so with fresh
    guesses). The waiting sign-in now belongs to the password it began with."""
    with frozen_at(MOMENT):
        _, codes = turn_on_app(signed_in(app))
    attacker = app.test_client()
    assert password_step(attacker, EMAIL).location == "/login/two-step"
    _reset_password_by_mail(app, smtp_server)
    answer = give_recovery_code(attacker, codes[0])
    assert answer.status_code in (302, 303) and answer.location.startswith("/login")
    assert not answer.location.startswith("/login/two-step")
    assert not is_signed_in(attacker)
    [unused] = db.session.scalars(select(RecoveryCode).where(
        RecoveryCode.code_hash == hash_of(normalised(codes[0])))).all()
    assert unused.used_at is None
