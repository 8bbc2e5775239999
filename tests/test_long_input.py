"""Long input: every search box takes at most 200 characters, in the form and on the server, and
a search that is too long gets a plain message instead of results (never the old results, never
the text echoed into a heading). An address of 5,000 characters reaches the app through gunicorn
as configured for production, rather than gunicorn's bare "URI Too Long"."""
import re
import sys
from pathlib import Path

import pytest
import requests

from harness.processes import free_port, output_of, start_logged
from harness.app_config import worker_environment
from tests.faults.helpers import wait_for
from tests.sync_helpers import sync_in_process
from webapp.microsoft import groups
from webapp.microsoft.services import graph_client_for
from webapp.search import MAX_LENGTH, TOO_LONG

ROOT = Path(__file__).resolve().parent.parent
HTMX = {"HX-Request": "true"}
TOO_LONG_TEXT = "x" * (MAX_LENGTH + 1)


def search_pages(org):
    """(full page, the HTMX partial the search box asks for) of every search on the site."""
    base = f"/o/{org.id}/settings"
    return {
        "synced people": (f"{base}/user-sync/", f"{base}/user-sync/people"),
        "manage users": (f"{base}/users/", f"{base}/users/"),
        "group picker": (f"{base}/user-sync/import/microsoft/groups",
                         f"{base}/user-sync/import/microsoft/groups?part=results"),
        "why not synced": (f"{base}/user-sync/why", f"{base}/user-sync/why"),
    }


@pytest.fixture
def searchable(school):
    """Northfield connected, its groups fetched and one sync done: every search has data."""
    groups.begin_snapshot(school.connection)
    groups.take_snapshot(school.connection.id, graph_client_for(school.connection))
    sync_in_process(school)
    return school


def with_query(url, text):
    return url + ("&" if "?" in url else "?") + "q=" + text


@pytest.mark.parametrize("name", ["synced people", "manage users", "group picker", "why not synced"])
def test_every_search_box_is_limited_to_200_characters(searchable, name):
    page, _ = search_pages(searchable.org)[name]
    html = searchable.client.get(page).text
    boxes = re.findall(r'<input[^>]+type="search"[^>]*>', html)
    assert boxes and all(f'maxlength="{MAX_LENGTH}"' in box for box in boxes), boxes


@pytest.mark.parametrize("name", ["synced people", "manage users", "group picker", "why not synced"])
def test_a_search_that_is_too_long_says_so_and_shows_no_results(searchable, name):
    page, partial = search_pages(searchable.org)[name]
    for url, headers in ((page, {}), (partial, HTMX)):
        answer = searchable.client.get(with_query(url, TOO_LONG_TEXT), headers=headers)
        assert answer.status_code == 200, (url, answer.status_code)
        assert TOO_LONG in answer.text, url
        assert 'role="alert"' in answer.text
        # No results stand under the refused search, and it is not echoed as a heading. (The
        # whole page has other tables and forms, such as the sync history and leaver retention.)
        shown = without_chosen_groups(answer.text)
        if headers:
            assert "<table" not in shown and 'type="checkbox"' not in shown, url
        assert "matching" not in shown, url
        assert "Siobhán O&#39;Brien" not in shown and "Northfield Staff</label>" not in shown


def without_chosen_groups(html):
    """The group picker keeps its chosen groups listed above any search, refused or not: they
    are the selection being made, not search results."""
    return re.sub(r'<fieldset class="group-list" id="chosen-groups".*?</fieldset>', "", html,
                  flags=re.S)


@pytest.mark.parametrize("name", ["synced people", "manage users", "group picker"])
def test_a_search_of_exactly_200_characters_is_searched(searchable, name):
    _, partial = search_pages(searchable.org)[name]
    answer = searchable.client.get(with_query(partial, "x" * MAX_LENGTH), headers=HTMX)
    assert answer.status_code == 200 and TOO_LONG not in answer.text
    assert "matching" in answer.text or "No group's name contains" in answer.text


def test_the_search_box_keeps_a_refused_search_so_it_can_be_shortened(searchable):
    page, _ = search_pages(searchable.org)["synced people"]
    html = searchable.client.get(with_query(page, TOO_LONG_TEXT)).text
    box = re.search(r'<input id="synced-search"[^>]*>', html).group(0)
    assert f'value="{TOO_LONG_TEXT}"' in box and 'aria-invalid="true"' in box
    assert 'aria-describedby="synced-search-error"' in box and 'id="synced-search-error"' in html


def test_a_csv_export_with_a_search_that_is_too_long_is_refused_not_everyone(searchable):
    answer = searchable.client.get(
        f"/o/{searchable.org.id}/settings/user-sync/people.csv?q={TOO_LONG_TEXT}")
    assert answer.status_code == 400 and TOO_LONG in answer.text


@pytest.fixture
def gunicorn(app, tmp_path):
    """`gunicorn wsgi:app --config gunicorn.conf.py` (the Procfile's web) on this test's database."""
    port = free_port()
    env = worker_environment(app, {"PORT": str(port), "WEB_CONCURRENCY": "1",
                                   "GUNICORN_THREADS": "2"})
    process = start_logged([sys.executable, "-m", "gunicorn", "wsgi:app", "--config",
                            "gunicorn.conf.py"], tmp_path / "gunicorn.log", cwd=ROOT, env=env)
    base_url = f"http://127.0.0.1:{port}"

    def up():
        try:
            return requests.get(f"{base_url}/login", timeout=2).status_code == 200
        except requests.RequestException:
            return process.poll() is not None
    try:
        wait_for(up, timeout=60, what="gunicorn")
        assert process.poll() is None, output_of(process)
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_a_5000_character_address_gets_the_apps_own_page_through_gunicorn(admin, gunicorn):
    session = requests.Session()
    login = session.get(f"{gunicorn}/login", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
    signed_in = session.post(f"{gunicorn}/login", timeout=10, allow_redirects=False, data={
        "email": admin.user.email, "password": "password", "csrf_token": token})
    assert signed_in.status_code == 302
    answer = session.get(f"{gunicorn}/o/{admin.org.id}/settings/users/?q={'x' * 5000}", timeout=10)
    assert answer.status_code == 200, answer.text[:300]
    assert "URI Too Long" not in answer.text and "Request Line is too large" not in answer.text
    assert "<h1>Manage users</h1>" in answer.text and TOO_LONG in answer.text
