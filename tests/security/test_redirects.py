"""`next` after sign-in never leaves the site."""
from urllib.parse import urlsplit

import pytest

from harness.factory import csrf_token_from
from tests.security.test_authorization_matrix import build_world_with_ids
from webapp.security import safe_next_url

HOSTILE_NEXT = [
    "https://evil.example/", "http://evil.example", "//evil.example", "///evil.example",
    "/\\evil.example", "\\\\evil.example", "\\/evil.example", "/\t/evil.example",
    "/\n/evil.example", "/\r\n/evil.example", " //evil.example", "javascript:alert(1)",
    "http:evil.example", "https:/evil.example", "data:text/html,hi", "evil.example",
    "\x00//evil.example", "/\u3000/evil.example",
]


def browser_target(location):
    """Where a browser would go: it drops tabs and newlines and reads backslashes as slashes."""
    cleaned = "".join(ch for ch in location if ch not in "\t\r\n").strip().replace("\\", "/")
    return urlsplit(cleaned)


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_hostile_next_is_ignored(target):
    kept = safe_next_url(target)
    assert kept is None or not browser_target(kept).netloc


def test_same_site_next_is_kept():
    assert safe_next_url("/o/3/settings/users/?q=a") == "/o/3/settings/users/?q=a"


def test_sign_in_with_hostile_next_lands_on_this_site(client, admin):
    for target in HOSTILE_NEXT:
        client.delete_cookie("session")
        page = client.get("/login")
        response = client.post("/login", data={
            "email": admin.user.email, "password": "password", "next": target,
            "csrf_token": csrf_token_from(page.text)})
        assert response.status_code == 302
        where = browser_target(response.location)
        assert not where.scheme and not where.netloc, (target, response.location)


def test_the_sign_in_redirect_keeps_next_for_a_deep_link(client, admin):
    response = client.get(f"/o/{admin.org.id}/settings/users/")
    assert response.status_code == 302 and response.location.startswith("/login?next=")
    page = client.get(response.location)
    signed_in = client.post("/login", data={
        "email": admin.user.email, "password": "password",
        "next": f"/o/{admin.org.id}/settings/users/", "csrf_token": csrf_token_from(page.text)})
    assert signed_in.location == f"/o/{admin.org.id}/settings/users/"


@pytest.mark.backends("sqlite")
def test_exclude_and_include_return_only_to_this_site(app, factory):
    world = build_world_with_ids(app, factory)
    client = world.clients["admin"]
    base = f"/o/{world.org.id}/settings/user-sync/people/{world.ids['person_id']}"

    def post(action, target):
        response = client.post(f"{base}/{action}", data={"next": target,
                                                          "csrf_token": client.csrf_token})
        assert response.status_code == 303, (action, target, response.status_code)
        return response.location

    assert post("exclude", "/o/1/settings/user-sync/?q=a") == "/o/1/settings/user-sync/?q=a"
    for target in HOSTILE_NEXT:
        where = browser_target(post("exclude", target))
        assert not where.scheme and not where.netloc, target
    # Including a person who was never synced removes them, so include is tried once.
    assert not browser_target(post("include", "//evil.example")).netloc
