"""Signing in and out: neutral errors, rate limits, safe redirects, fresh sessions."""
import pytest

from harness.factory import csrf_token_from, post_form
from webapp.auth.services import NEUTRAL_FAILURE


def attempt(client, email, password, next_url=""):
    page = client.get("/login")
    return client.post("/login", data={"email": email, "password": password, "next": next_url,
                                       "csrf_token": csrf_token_from(page.text)})


def test_login_page_has_labelled_fields_and_sign_in_button(client):
    html = client.get("/login").text
    assert '<label for="email">Email</label>' in html
    assert '<label for="password">Password</label>' in html
    assert ">Sign in</button>" in html


@pytest.mark.parametrize("demo_mode", [True, False])
def test_the_sign_in_page_gives_the_demo_admin_only_in_demo_mode(app, client, demo_mode):
    from webapp.demo import DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD
    app.config["DEMO_MODE"] = demo_mode
    pages = [client.get("/login"), attempt(client, DEMO_ADMIN_EMAIL, "a typo")]
    for page in pages:
        shown = (f"Sign in as <strong>{DEMO_ADMIN_EMAIL}</strong> with the password "
                 f"<strong>{DEMO_ADMIN_PASSWORD}</strong>") in page.text
        assert shown is demo_mode
        assert (DEMO_ADMIN_PASSWORD in page.text) is demo_mode


def test_admin_signs_in_and_lands_on_their_organisation(client, admin):
    response = attempt(client, admin.user.email, "password")
    assert response.status_code == 302
    home = client.get("/", follow_redirects=True)
    assert admin.org.name in home.text
    assert "Settings" in home.text


def test_email_is_matched_case_insensitively_and_typed_form_is_kept(client, factory):
    org = factory.organisation()
    user = factory.user("Mixed.Case@School.Example", [org])
    assert user.email == "Mixed.Case@School.Example"
    assert attempt(client, "  mixed.case@school.EXAMPLE ", "password").status_code == 302


def test_password_is_stored_with_scrypt_by_default(app, factory):
    from webapp.config import Config
    app.config["PASSWORD_HASH_METHOD"] = Config.PASSWORD_HASH_METHOD  # tests use a fast one
    user = factory.user(password="correct horse")
    assert user.password_hash.startswith("scrypt:")
    assert "correct horse" not in user.password_hash and user.check_password("correct horse")


@pytest.mark.parametrize("case", ["wrong-password", "unknown-email", "suspended"])
def test_every_sign_in_failure_gets_the_same_neutral_message(client, factory, case):
    org = factory.organisation()
    factory.user("known@school.example", [org])
    factory.user("gone@school.example", [org], status="suspended")
    email, password = {
        "wrong-password": ("known@school.example", "nope"),
        "unknown-email": ("nobody@school.example", "password"),
        "suspended": ("gone@school.example", "password"),
    }[case]
    response = attempt(client, email, password)
    assert response.status_code == 401
    assert NEUTRAL_FAILURE.replace("'", "&#39;") in response.text


def test_failed_sign_ins_are_rate_limited_per_account(client, app, factory):
    org = factory.organisation()
    factory.user("target@school.example", [org])
    limit = app.config["LOGIN_FAILURES_PER_ACCOUNT"]
    for _ in range(limit):
        assert attempt(client, "target@school.example", "wrong").status_code == 401
    locked = attempt(client, "target@school.example", "password")
    assert locked.status_code == 429
    assert "Too many failed sign-in attempts" in locked.text


def test_failed_sign_ins_are_rate_limited_per_client_address(client, app, factory):
    org = factory.organisation()
    factory.user("real@school.example", [org])
    for n in range(app.config["LOGIN_FAILURES_PER_ADDRESS"]):
        attempt(client, f"guess{n}@school.example", "wrong")
    response = attempt(client, "real@school.example", "password")
    assert response.status_code == 429


def test_successful_sign_in_clears_the_account_counter(client, app, factory):
    org = factory.organisation()
    factory.user("forgetful@school.example", [org])
    for _ in range(app.config["LOGIN_FAILURES_PER_ACCOUNT"] - 1):
        attempt(client, "forgetful@school.example", "wrong")
    assert attempt(client, "forgetful@school.example", "password").status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token_from(client.get("/", follow_redirects=True).text)})
    assert attempt(client, "forgetful@school.example", "wrong").status_code == 401
    assert attempt(client, "forgetful@school.example", "password").status_code == 302


@pytest.mark.parametrize("target,expected", [
    ("/o/1/settings", "/o/1/settings"),
    ("https://evil.example/", "/"),
    ("//evil.example/", "/"),
    ("/\\evil.example", "/"),
    ("javascript:alert(1)", "/"),
    ("/o/1/settings/users/\r\nX-Injected: 1", "/"),  # was a 500 after signing in
    ("/\nfoo", "/"),
    ("/o/1/\x7f", "/"),
])
def test_next_redirects_stay_on_this_site(client, admin, target, expected):
    response = attempt(client, admin.user.email, "password", next_url=target)
    assert response.headers["Location"] == expected


def test_session_is_rotated_at_sign_in(client, admin):
    client.get("/login")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    attempt(client, admin.user.email, "password")
    with client.session_transaction() as session:
        assert "planted" not in session


def test_sign_out_is_a_post_and_ends_the_session(admin_client):
    assert admin_client.get("/logout").status_code == 405
    response = post_form(admin_client, "/logout")
    assert response.status_code == 302
    assert admin_client.get("/", follow_redirects=False).status_code == 302


def test_pages_need_a_signed_in_user(client, admin):
    response = client.get(f"/o/{admin.org.id}/settings/users/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_state_changes_without_a_csrf_token_are_refused(admin_client, admin):
    response = admin_client.post(f"/o/{admin.org.id}/settings/users/",
                                 data={"email": "x@school.example", "role": "member"})
    assert response.status_code == 400
    assert "nothing was changed" in response.text


def test_a_password_typed_with_its_accents_composed_otherwise_signs_in(client, factory, app):
    """Set as NFC (é one character), typed as NFD (e and a combining accent, as some keyboards
    and password managers send it): refused, so that person could not get in."""
    import unicodedata
    from werkzeug.security import generate_password_hash
    from webapp.extensions import db
    typed = "Crème-Brûlée-Harbour-7"
    user = factory.user("baker@school.example", [factory.organisation()],
                        password=unicodedata.normalize("NFC", typed))
    response = attempt(client, user.email, unicodedata.normalize("NFD", typed))
    assert response.status_code == 302, response.status_code
    # A password set before with decomposed letters still matches as it is typed.
    user.password_hash = generate_password_hash(unicodedata.normalize("NFD", typed))
    db.session.commit()
    assert user.check_password(unicodedata.normalize("NFD", typed))
