"""Security headers on every page, no inline script or style, cookie flags, session rotation."""
import pytest

from harness.app_config import make_test_config
from harness.factory import csrf_token_from, sign_in
from tests.security.pages import assert_safe_page, markup_problems
from tests.security.test_authorization_matrix import build_world_with_ids
from webapp import create_app
from webapp.config import ProductionConfig, config_from_env

pytestmark = pytest.mark.backends("sqlite")  # response headers do not depend on storage
# Every route's answers, as every persona, are checked by the authorisation matrix.


@pytest.fixture
def world(app, factory):
    return build_world_with_ids(app, factory)


def test_error_pages_carry_the_headers_too(world):
    client = world.clients["admin"]
    assert_safe_page(client.get("/no/such/page"), "404 page")
    refused = client.post("/switch-organisation", data={"org_id": world.org.id})
    assert refused.status_code == 400
    assert_safe_page(refused, "CSRF refusal page")
    assert "csrf_token" not in refused.text or "expired" in refused.text.lower()


def test_static_files_carry_the_headers(client):
    for path in ("/static/css/app.css", "/static/js/app.js"):
        response = client.get(path)
        assert response.status_code == 200
        assert_safe_page(response, path)


def test_htmx_is_configured_for_a_strict_policy(client):
    html = client.get("/login").text
    assert '"allowEval": false' in html and '"includeIndicatorStyles": false' in html
    assert '"allowScriptTags": false' in html


def test_the_page_checker_spots_inline_script_and_handlers():
    assert markup_problems('<p>ok</p><script src="/static/x.js"></script>') == []
    assert markup_problems("<script>alert(1)</script>")
    assert markup_problems('<a href="#" onclick="x()">x</a>')
    assert markup_problems('<div hx-on:click="x()"></div>')
    assert markup_problems('<p style="color: red">x</p>')


def session_cookie(response):
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, "no session cookie set"
    return cookies[-1]


def test_session_cookie_is_httponly_and_lax_and_not_secure_in_local_development(client, admin):
    response = sign_in(client, admin.user.email)
    cookie = session_cookie(response).lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert "; secure" not in cookie  # local http://127.0.0.1 must keep working


def test_production_configuration_marks_cookies_secure(monkeypatch):
    assert config_from_env({"ROSTERSYNC_ENV": "production"}) is ProductionConfig
    assert ProductionConfig.SESSION_COOKIE_SECURE is True
    assert ProductionConfig.REMEMBER_COOKIE_SECURE is True


def test_a_production_app_sets_secure_cookies(redis_url, tmp_path):
    attributes = {k: v for k, v in vars(make_test_config(f"sqlite:///{tmp_path}/p.db", redis_url)).items()
                  if k.isupper() and not k.endswith("COOKIE_SECURE")}
    app = create_app(type("ProductionTestConfig", (ProductionConfig,), attributes))
    assert app.config["SESSION_COOKIE_SECURE"] is True
    # The sign-in page starts a session (its CSRF token), which is enough to see the flags.
    response = app.test_client().get("/login", base_url="https://localhost")
    cookie = session_cookie(response).lower()
    assert "; secure" in cookie and "httponly" in cookie and "samesite=lax" in cookie


def test_signing_in_rotates_the_session(client, admin):
    before = client.get("/login")
    old_cookie = session_cookie(before)
    old_token = csrf_token_from(before.text)
    response = client.post("/login", data={"email": admin.user.email, "password": "password",
                                           "csrf_token": old_token})
    assert response.status_code == 302
    assert session_cookie(response) != old_cookie
    # Nothing from the signed-out session carries over: its CSRF token no longer works.
    stale = client.post("/switch-organisation", data={"org_id": admin.org.id,
                                                      "csrf_token": old_token})
    assert stale.status_code == 400
    fresh_token = csrf_token_from(client.get("/", follow_redirects=True).text)
    assert fresh_token != old_token
    assert client.post("/switch-organisation", data={"org_id": admin.org.id,
                                                     "csrf_token": fresh_token}).status_code == 302
