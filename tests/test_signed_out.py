"""Signed out in one tab, still clicking in another: every request that needs a signed-in admin
sends them to the sign-in page, says they were signed out, and brings them back afterwards.
An HTMX request gets HX-Redirect (a whole-page visit): following a plain redirect once swapped
the sign-in page, header and all, into the Synced people card, and Sync now said "This page
was out of date"."""
from urllib.parse import parse_qs, urlsplit

import pytest

from harness.factory import csrf_token_from
from webapp.auth.signed_out import SIGN_IN_TO_CONTINUE, SIGNED_OUT
from webapp.user_sync import models as m

pytestmark = pytest.mark.backends("sqlite")

HOST = "http://localhost"


@pytest.fixture
def signed_out_elsewhere(admin_client, admin):
    """The admin's sync page, as still open in one tab, after signing out in another."""
    page_url = f"/o/{admin.org.id}/settings/user-sync/?q=ann"
    token = csrf_token_from(admin_client.get(page_url).text)
    admin_client.post("/logout", data={"csrf_token": token})
    admin_client.get("/login")  # the other tab shows the sign-in page (and its message)
    return admin_client, page_url, token


def htmx_headers(page_url, token=None, current=None):
    headers = {"HX-Request": "true", "HX-Current-URL": current or HOST + page_url}
    return headers | ({"X-CSRFToken": token} if token else {})


def next_of(location):
    return parse_qs(urlsplit(location).query).get("next", [None])[0]


def message_on(client, location):
    return client.get(location).text.replace("&#39;", "'")


def test_an_htmx_search_after_signing_out_redirects_the_whole_page_to_sign_in(
        signed_out_elsewhere, admin):
    client, page_url, _ = signed_out_elsewhere
    response = client.get(f"/o/{admin.org.id}/settings/user-sync/people?q=ann",
                          headers=htmx_headers(page_url))
    assert response.status_code == 401
    assert response.text == ""  # nothing for htmx to swap into the card
    location = response.headers["HX-Redirect"]
    assert urlsplit(location).path == "/login" and next_of(location) == page_url
    assert SIGNED_OUT in message_on(client, location)


def test_signing_in_again_returns_to_the_page_the_admin_was_on(signed_out_elsewhere, admin):
    client, page_url, _ = signed_out_elsewhere
    location = client.get(f"/o/{admin.org.id}/settings/user-sync/people",
                          headers=htmx_headers(page_url)).headers["HX-Redirect"]
    page = client.get(location)
    signed_in = client.post("/login", data={
        "email": admin.user.email, "password": "password", "next": next_of(location),
        "csrf_token": csrf_token_from(page.text)})
    assert signed_in.status_code == 302 and signed_in.location == page_url


def test_sync_now_after_signing_out_redirects_to_sign_in_and_starts_nothing(
        signed_out_elsewhere, admin):
    """The page's CSRF token belonged to the session that signing out ended."""
    client, page_url, token = signed_out_elsewhere
    response = client.post(f"/o/{admin.org.id}/settings/user-sync/sync",
                           headers=htmx_headers(page_url, token))
    assert response.status_code == 401 and response.text == ""
    location = response.headers["HX-Redirect"]
    assert next_of(location) == page_url
    text = message_on(client, location)
    assert SIGNED_OUT in text and "out of date" not in text
    assert m.SyncRun.query.count() == 0


def test_a_plain_form_posted_after_signing_out_goes_to_sign_in_and_saves_nothing(
        signed_out_elsewhere, admin):
    client, page_url, token = signed_out_elsewhere
    response = client.post(f"/o/{admin.org.id}/settings/user-sync/settings", headers={
        "Referer": HOST + page_url}, data={"csrf_token": token, "removal_threshold_percent": "50",
                                           "removal_threshold_minimum": "9"})
    assert response.status_code == 303
    assert urlsplit(response.location).path == "/login" and next_of(response.location) == page_url
    assert SIGNED_OUT in message_on(client, response.location)
    assert m.SyncSettings.query.count() == 0


@pytest.mark.parametrize("current", [
    "https://evil.example/o/1/settings/", "http://localhost.evil.example/o/1/",
    "javascript:alert(1)", "http://localhost/login?next=/o/1/", "not a url", None])
def test_next_is_only_ever_a_page_of_this_site(signed_out_elsewhere, admin, current):
    client, page_url, _ = signed_out_elsewhere
    headers = {"HX-Request": "true"} | ({"HX-Current-URL": current} if current else {})
    response = client.get(f"/o/{admin.org.id}/settings/user-sync/people", headers=headers)
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login"


def test_a_deep_link_from_outside_just_asks_to_sign_in(client, admin):
    response = client.get(f"/o/{admin.org.id}/settings/user-sync/")
    assert response.status_code == 302
    assert next_of(response.location) == f"/o/{admin.org.id}/settings/user-sync/"
    text = message_on(client, response.location)
    assert SIGN_IN_TO_CONTINUE in text and SIGNED_OUT not in text


def test_signed_in_with_a_stale_token_still_says_the_page_was_out_of_date(admin_client, admin):
    """Signed in again in another tab: the session is new, so the old page's token is not."""
    response = admin_client.post(f"/o/{admin.org.id}/settings/user-sync/sync",
                                 headers={"HX-Request": "true", "X-CSRFToken": "stale"})
    assert response.status_code == 400
    assert m.SyncRun.query.count() == 0
