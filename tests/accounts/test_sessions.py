"""Sessions end server-side: idle for SESSION_IDLE_MINUTES, SESSION_MAX_DAYS after signing in,
"Sign out other sessions", a password change, and a person left with no active school. An
ended session stops at its next request and the sign-in page says why."""

import pytest
from sqlalchemy import select

from tests.accounts.helpers import STRONG, audit_count, post_page_form
from harness.factory import sign_in
from webapp.audit import actions
from webapp.auth.models import AccountSession
from webapp.clock import frozen_at, utcnow
from webapp.extensions import db
from webapp.orgs.models import Membership

EMAIL = "teacher@school.example"

def signed_in(app, email=EMAIL):
    client = app.test_client()
    sign_in(client, email)
    return client

def page_or_sign_in(client):
    """The answer to opening the home page: the school's page, or the sign-in page and why."""
    return client.get("/", follow_redirects=True)

def is_signed_out(response):
    return response.request.path == "/login"

@pytest.mark.both_databases  # SQLite gives stored times back without their zone
def test_a_session_ends_after_the_idle_time_and_says_why(app, factory):
    factory.user(EMAIL, [factory.organisation("Hill School")])
    with frozen_at(utcnow()) as clock:
        client = signed_in(app)
        clock.advance(minutes=app.config["SESSION_IDLE_MINUTES"] - 1)
        assert not is_signed_out(page_or_sign_in(client))  # a request: no longer idle
        clock.advance(minutes=app.config["SESSION_IDLE_MINUTES"] + 1)
        answer = page_or_sign_in(client)
    assert is_signed_out(answer) and "after a while without using rostersync" in answer.text

def test_a_session_ends_after_the_maximum_age_however_busy(app, factory):
    factory.user(EMAIL, [factory.organisation("Hill School")])
    app.config["SESSION_IDLE_MINUTES"] = 24 * 60
    with frozen_at(utcnow()) as clock:
        client = signed_in(app)
        for _ in range(app.config["SESSION_MAX_DAYS"]):
            clock.advance(hours=23, minutes=59)
            assert not is_signed_out(page_or_sign_in(client))
        clock.advance(hours=1)
        answer = page_or_sign_in(client)
    assert is_signed_out(answer) and "reached its time limit" in answer.text

def test_sign_out_other_sessions_ends_them_and_keeps_this_one(app, factory):
    factory.user(EMAIL, [factory.organisation("Hill School")])
    laptop, phone, here = signed_in(app), signed_in(app), signed_in(app)
    page = here.get("/account/security/")
    assert "also signed in 2 other times" in page.text
    done = post_page_form(here, "/account/security/", "/account/security/sessions/sign-out-others", {})
    assert done.status_code == 303
    assert "Signed out 2 other sessions" in here.get(done.location).text
    for other in (laptop, phone):
        answer = page_or_sign_in(other)
        assert is_signed_out(answer) and "Sign out other sessions" in answer.text
    assert not is_signed_out(page_or_sign_in(here))
    assert audit_count(actions.OTHER_SESSIONS_SIGNED_OUT) == 1

def test_changing_the_password_needs_the_current_one_and_signs_out_the_others(app, factory):
    factory.user(EMAIL, [factory.organisation("Hill School")])
    other, here = signed_in(app), signed_in(app)
    wrong = post_page_form(here, "/account/security/", "/account/security/password", {
        "current": "not-it", "password": STRONG, "confirmation": STRONG})
    assert wrong.status_code == 422 and "not your current password" in wrong.text
    weak = post_page_form(here, "/account/security/", "/account/security/password", {
        "current": "password", "password": "teacher-school-1", "confirmation": "teacher-school-1"})
    assert weak.status_code == 422 and "built from your name" in weak.text
    done = post_page_form(here, "/account/security/", "/account/security/password", {
        "current": "password", "password": STRONG, "confirmation": STRONG})
    assert done.status_code == 303 and "1 other session signed out" in here.get(done.location).text
    assert is_signed_out(page_or_sign_in(other))
    assert not is_signed_out(page_or_sign_in(here))
    sign_in(app.test_client(), EMAIL, STRONG)
    assert audit_count(actions.PASSWORD_CHANGED) == 1

def test_wrong_current_passwords_count_towards_the_lock_out(app, factory):
    factory.user(EMAIL, [factory.organisation("Hill School")])
    here = signed_in(app)
    for _ in range(app.config["LOGIN_FAILURES_PER_ACCOUNT"]):
        post_page_form(here, "/account/security/", "/account/security/password", {
            "current": "guess", "password": STRONG, "confirmation": STRONG})
    locked = post_page_form(here, "/account/security/", "/account/security/password", {
        "current": "password", "password": STRONG, "confirmation": STRONG})
    assert locked.status_code == 429 and "Too many wrong passwords" in locked.text

def test_a_person_suspended_or_removed_from_every_school_is_signed_out_at_the_next_request(
        app, factory, db):
    hill, dale = factory.organisation("Hill School"), factory.organisation("Dale School")
    user = factory.user(EMAIL, [hill, dale])
    client = signed_in(app)
    memberships = db.session.scalars(select(Membership).where(Membership.user_id == user.id)).all()
    memberships[0].status = "suspended"
    db.session.commit()
    assert not is_signed_out(page_or_sign_in(client))  # still in the other school
    db.session.delete(memberships[1])
    db.session.commit()
    answer = page_or_sign_in(client)
    assert is_signed_out(answer) and "no longer has access to any school" in answer.text
    ended = db.session.scalar(select(AccountSession).where(AccountSession.user_id == user.id))
    assert ended.ended_at is not None and ended.end_reason == "no_organisation"

def test_an_htmx_request_of_an_ended_session_is_sent_to_sign_in_as_a_page_visit(app, admin):
    client = signed_in(app, admin.user.email)
    signed_in(app, admin.user.email)
    db.session.execute(AccountSession.__table__.update().values(ended_at=utcnow(),
                                                                end_reason="signed_out_elsewhere"))
    db.session.commit()
    answer = client.get(f"/o/{admin.org.id}/settings/users/", headers={"HX-Request": "true"})
    assert answer.status_code == 401 and answer.headers["HX-Redirect"].startswith("/login")

def test_last_sign_ins_show_when_how_and_from_which_network_address(app, factory):
    factory.user(EMAIL, [factory.organisation("Hill School")])
    signed_in(app)
    here = app.test_client()
    sign_in(here, EMAIL)
    page = here.get("/account/security/").text
    table = page[page.index("Last sign-ins"):]
    assert table.count("<td>Password</td>") == 2 and table.count("<td>127.0.0.1</td>") == 2
    assert "This session" in table and "Still signed in" in table
    post_page_form(here, "/account/security/", "/logout", {})
    rows = db.session.scalars(select(AccountSession).order_by(AccountSession.id)).all()
    assert [row.method for row in rows] == ["password", "password"]
    assert rows[1].end_reason == "signed_out" and rows[0].ended_at is None

def test_the_session_limits_are_range_checked_at_start_up():
    from harness.app_config import make_test_config
    from webapp.config import ConfigError
    for name, value in (("SESSION_IDLE_MINUTES", 0), ("SESSION_MAX_DAYS", 10_000),
                        ("PASSWORD_RESETS_PER_ACCOUNT", -1)):
        with pytest.raises(ConfigError, match=name):
            make_test_config("sqlite://", "redis://127.0.0.1:1/0", **{name: value}).validate()


def test_the_sign_in_and_password_forms_refuse_10000_character_fields_with_a_message(
        app, factory):
    from tests.accounts.helpers import attempt_sign_in
    factory.user(EMAIL, [factory.organisation("Hill School")])
    huge = "x" * 10_000
    for email, password in ((huge + "@school.example", "password"), (EMAIL, huge)):
        refused = attempt_sign_in(app.test_client(), email, password)
        assert refused.status_code == 401 and "don&#39;t match an active account" in refused.text
    here = signed_in(app)
    for field, reason in (("current", "not your current password"),
                          ("password", "at most 128 characters")):
        form = {"current": "password", "password": STRONG, "confirmation": STRONG, field: huge}
        answer = post_page_form(here, "/account/security/", "/account/security/password", form)
        assert answer.status_code == 422 and reason in answer.text


@pytest.mark.parametrize("second_step", [False, True], ids=["password", "password-then-code"])
def test_signing_in_as_someone_else_on_a_browser_ends_the_session_it_held(app, factory,
                                                                          second_step):
    """The first account's session ends when another account signs in on the same browser,
    whether straight away or at its second step: its owner's Last sign-ins no longer says
    Still signed in for a browser they no longer hold."""
    from tests.accounts.two_step_helpers import MOMENT, code_at, give_code, password_step, \
        turn_on_app
    school = factory.organisation("Hill School")
    factory.user(EMAIL, [school])
    factory.user("other.person@hill.example", [school])
    other = "other.person@hill.example"
    key = None
    if second_step:
        with frozen_at(MOMENT):
            key, _ = turn_on_app(signed_in(app, other))
    browser = signed_in(app)
    first = db.session.scalar(select(AccountSession).order_by(AccountSession.id.desc()))
    with frozen_at(MOMENT):
        password_step(browser, other)
        if second_step:
            give_code(browser, code_at(key, MOMENT, steps=1))
    db.session.expire_all()
    assert db.session.get(AccountSession, first.id).end_reason == "signed_out"
    latest = db.session.scalar(select(AccountSession).order_by(AccountSession.id.desc()))
    assert latest.id != first.id and latest.ended_at is None


def test_a_sign_in_checks_one_password_hash_whether_or_not_the_address_has_an_account(
        app, factory, monkeypatch):
    """The words were the same, but only a real account's password was hashed: with scrypt a
    wrong password for a real account took about 15 times as long as for an unknown address
    (168 against 11 ms), which told who has an account. Every refusal now checks one hash."""
    from tests.accounts.helpers import attempt_sign_in
    from webapp.auth import models, services
    checked = []

    def counting(original):
        def check(*args):
            checked.append(1)
            return original(*args)
        return check
    for module in (models, services):
        monkeypatch.setattr(module, "check_password_hash", counting(module.check_password_hash))
    school = factory.organisation("Hill School")
    factory.user(EMAIL, [school])
    factory.user("invited@school.example", [school], password=None)
    for email in (EMAIL, "nobody@school.example", "invited@school.example"):
        checked.clear()
        assert attempt_sign_in(app.test_client(), email, "wrong password").status_code == 401
        assert len(checked) == 1, email
