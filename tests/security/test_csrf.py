"""CSRF on every state change, HTMX requests included."""
import re
from pathlib import Path

import pytest
from flask import render_template_string

from tests.security.route_table import PUBLIC, ROUTES
from tests.security.test_authorization_matrix import SERVED, build_url, build_world_with_ids, form_for
from tests.security.world import database_snapshot, queue_snapshot
from webapp import PROBLEMS

CSRF_REFUSAL = "Your form expired or was sent from another page"
HTMX_CSRF_REFUSAL = PROBLEMS[400]  # the same refusal as a fragment, never a page in a card
POSTS = [pytest.param(endpoint, id=endpoint) for endpoint, method, _ in SERVED
         if method == "POST" and (endpoint, method) in ROUTES]


pytestmark = pytest.mark.backends("sqlite")  # as the matrix: route checks, not storage


@pytest.fixture
def world(app, factory):
    return build_world_with_ids(app, factory)


def test_only_get_and_post_are_served():
    """Every state change is a POST; nothing answers PUT, PATCH or DELETE."""
    assert {method for _, method, _ in SERVED} <= {"GET", "POST"}


def test_no_post_route_is_exempt_from_csrf(app):
    csrf = app.extensions["csrf"]
    exempt = {view for view in csrf._exempt_views}
    posts = {f"{app.view_functions[e].__module__}.{app.view_functions[e].__name__}"
             for e, m, _ in SERVED if m == "POST"}
    assert not exempt & posts, exempt & posts
    assert not csrf._exempt_blueprints


@pytest.mark.parametrize("endpoint", POSTS)
def test_a_post_needs_a_valid_token_in_the_form_or_the_htmx_header(world, endpoint):
    """Refused without one (plain or HTMX), with a forged one, and nothing changes; accepted
    with the token in X-CSRFToken, as HTMX sends it from hx-headers on <body>."""
    for persona in ("anonymous", "admin"):
        client = world.clients[persona]
        url = build_url(world, endpoint, world.org)
        form = form_for(ROUTES[(endpoint, "POST")], client, world.org, world)
        token = form.pop("csrf_token")
        attempts = [
            ({}, form),
            ({"HX-Request": "true"}, form),
            ({"HX-Request": "true", "X-CSRFToken": token[:-4] + "AAAA"}, form),
            ({"HX-Request": "true"}, {**form, "csrf_token": "not-a-token"}),
        ]
        for headers, data in attempts:
            before = (database_snapshot(), queue_snapshot(world.app))
            response = client.post(url, data=data, headers=headers)
            assert_refused(response, persona, headers, f"{persona} POST {url} {headers}",
                           public=ROUTES[(endpoint, "POST")].access == PUBLIC)
            assert (database_snapshot(), queue_snapshot(world.app)) == before
    accepted = client.post(url, data=form, headers={"HX-Request": "true", "X-CSRFToken": token})
    assert CSRF_REFUSAL not in accepted.text and accepted.status_code < 500


def assert_refused(response, persona, headers, what, public=False):
    """Signed in, or a form for people who are not (sign in, Forgot your password, an
    invitation): the CSRF page (for HTMX, its words alone). Otherwise signed out: the sign-in
    page (a redirect htmx follows as a page visit), since the session that held the token is
    gone."""
    if persona != "anonymous" or public:
        refusal = HTMX_CSRF_REFUSAL if "HX-Request" in headers else CSRF_REFUSAL
        assert response.status_code == 400 and refusal in response.text, (
            f"{what} -> {response.status_code}")
        assert "HX-Request" not in headers or "<body" not in response.text, what
    elif "HX-Request" in headers:
        assert response.status_code == 401, what
        assert response.headers["HX-Redirect"].startswith("/login"), what
    else:
        assert response.status_code == 303 and response.location.startswith("/login"), what


def test_every_signed_in_page_gives_htmx_the_token(world):
    html = world.clients["admin"].get(f"/o/{world.org.id}/settings").text
    assert 'hx-headers=\'{"X-CSRFToken": "' in html


TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
HAND_WRITTEN_POST = re.compile(r'name=["\']csrf_token|<form[^>]*method=["\']?post', re.I)


def test_no_template_writes_a_post_form_by_hand():
    """Every POST form comes from the post_form macro, so none can leave out its token."""
    by_hand = sorted(str(path.relative_to(TEMPLATES)) for path in TEMPLATES.rglob("*.html")
                     if path.name != "_post_form.html" and HAND_WRITTEN_POST.search(path.read_text()))
    assert by_hand == []


def test_the_post_form_macro_carries_the_token_and_passes_attributes_through_escaped(app):
    with app.test_request_context():
        html = render_template_string(
            '{% from "_post_form.html" import post_form %}'
            '{% call post_form("/x?a=1&b=2", class="inline-form", hx_post="/x", data_note=note, '
            'novalidate=true, hidden=false, id=none) %}<button>Go</button>{% endcall %}',
            note='"><script>')
    opening, inside = html.split("\n")
    assert opening == ('<form method="post" action="/x?a=1&amp;b=2" class="inline-form" hx-post="/x"'
                       ' data-note="&#34;&gt;&lt;script&gt;" novalidate>')
    assert re.fullmatch(r'\s*<input type="hidden" name="csrf_token" value="[^"<>]+">'
                        r'<button>Go</button></form>', inside)
