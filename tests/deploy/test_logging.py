"""Structured logs: one JSON line per request with its id; tokens and passwords never appear."""
import json
import logging

import pytest

from tests.json_log import captured_json_log
from webapp.logs import redact

pytestmark = pytest.mark.backends("sqlite")
SECRET_BEARER = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ0ZXN0LXN1YmplY3QifQ.c2lnbmF0dXJlLXZhbHVl"


@pytest.fixture
def log_lines():
    with captured_json_log() as stream:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]


def test_each_request_logs_one_line_with_its_own_request_id(client, admin, sign_in, log_lines):
    sign_in(client, admin.user.email)
    response = client.get("/healthz", headers={"X-Request-ID": "router-id-12345678"})
    requests = [line for line in log_lines() if line["msg"] == "request"]
    assert [(r["method"], r["path"]) for r in requests] == [
        ("GET", "/login"), ("POST", "/login"), ("GET", "/healthz")]
    assert len({r["request_id"] for r in requests}) == 3
    assert requests[-1]["request_id"] == "router-id-12345678"
    assert response.headers["X-Request-ID"] == "router-id-12345678"
    assert requests[1]["status"] == 302 and requests[1]["duration_ms"] >= 0


def test_no_token_password_or_oauth_code_reaches_the_log(client, admin, sign_in, log_lines):
    sign_in(client, admin.user.email, "password")
    client.get("/healthz?code=AUTH-CODE-VALUE&state=STATE-VALUE",
               headers={"Authorization": f"Bearer {SECRET_BEARER}"})
    logging.getLogger("webapp.test").info("calling Graph with Authorization: Bearer %s",
                                          SECRET_BEARER)
    logging.getLogger("webapp.test").warning("token response %s",
                                             {"access_token": "at-123456789", "refresh_token": "rt-987654321"})
    text = json.dumps(log_lines())
    for secret in (SECRET_BEARER, "AUTH-CODE-VALUE", "STATE-VALUE", "at-123456789",
                   "rt-987654321", '"password"'):
        assert secret not in text
    assert "[redacted]" in text


def test_redaction_keeps_ordinary_messages_readable():
    assert redact("Microsoft said AADSTS50011: redirect URI mismatch (status code 400)") == \
        "Microsoft said AADSTS50011: redirect URI mismatch (status code 400)"
    assert redact("POST /token client_secret=abc123&grant_type=refresh_token") == \
        "POST /token client_secret=[redacted]&grant_type=refresh_token"
