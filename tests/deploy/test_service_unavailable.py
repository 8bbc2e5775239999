"""Redis or the database out of reach: the admin gets a 503 page that says which and what to do,
never a bare 500. (A failed HTMX request says so in the page: tests/browser/test_request_problems.py.)"""
import pytest

from harness.processes import free_port
from harness.app_config import make_test_config
from harness.factory import csrf_token_from
from webapp import create_app

REDIS_DOWN = "rostersync could not reach its job queue (Redis)"


@pytest.fixture
def extra_config(microsoft, private_redis):
    return {"REDIS_URL": private_redis.url}


def post_while_redis_is_down(client, private_redis, page_url, post_url, data):
    token = csrf_token_from(client.get(page_url).text)
    private_redis.stop()
    try:
        return client.post(post_url, data={**data, "csrf_token": token})
    finally:
        private_redis.start()  # the app fixture empties this run's keys afterwards


def assert_says_unavailable(response, what):
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert what in response.text
    assert "Nothing was changed" in response.text and "contact support" in response.text


def test_signing_in_while_redis_is_down_says_so(app, admin, client, private_redis):
    response = post_while_redis_is_down(client, private_redis, "/login", "/login",
                                        {"email": admin.user.email, "password": "password"})
    assert_says_unavailable(response, REDIS_DOWN)


def test_connect_with_microsoft_while_redis_is_down_says_so(app, admin, admin_client,
                                                            private_redis):
    import_settings = f"/o/{admin.org.id}/settings/user-sync/import/microsoft"
    response = post_while_redis_is_down(admin_client, private_redis, import_settings,
                                        f"{import_settings}/connect", {})
    assert_says_unavailable(response, REDIS_DOWN)
    assert admin_client.get(import_settings).status_code == 200  # and back once Redis is


def test_a_database_that_cannot_be_reached_gets_a_page_that_says_so(redis_url):
    unreachable = f"postgresql://postgres@127.0.0.1:{free_port()}/test"
    app = create_app(make_test_config(unreachable, redis_url))
    client = app.test_client()
    token = csrf_token_from(client.get("/login").text)
    response = client.post("/login", data={"email": "head@school.example", "password": "x",
                                           "csrf_token": token})
    assert_says_unavailable(response, "rostersync could not reach its database")
