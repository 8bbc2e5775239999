"""A click whose HTMX request fails says so in the page: htmx itself swaps nothing for an error
answer, so without app.js the admin would see a button that does nothing. The message goes once
a later search or click of the admin's own works, not when the page's own polling does, nor when
a search sent before the failure answers late. A failed search on Manage user sync or Schools
leaves the table's sort as chosen for the next search."""
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.sync_helpers import shared_connected_school, sync_in_process
from webapp.extensions import db
from webapp.orgs.models import Membership
from webapp.user_sync import models as m
from webapp.user_sync.engine import lifecycle

pytestmark = pytest.mark.backends("postgresql")


@pytest.fixture
def sync_page(app, factory, client, microsoft, live_server, browser_page):
    school = shared_connected_school(factory, client, microsoft)
    sign_in(browser_page, live_server, school.admin.email)
    browser_page.goto(f"{live_server}/o/{school.org.id}/settings/user-sync/")
    expect(browser_page.get_by_role("alert")).to_be_hidden()
    return school


def test_sync_now_after_losing_the_admin_role_says_it_is_no_longer_available(
        sync_page, browser_page):
    for membership in Membership.query.filter_by(organisation_id=sync_page.org.id, role="admin"):
        membership.role = "member"  # another admin demoted everyone while this page was open
    db.session.commit()
    browser_page.get_by_role("button", name="Sync now").click()
    problem = browser_page.get_by_role("alert")
    expect(problem).to_contain_text("That is no longer available to you")
    expect(problem.get_by_role("link", name="contact support")).to_be_visible()
    assert m.SyncRun.query.count() == 0


def test_sync_now_with_the_network_gone_says_rostersync_could_not_be_reached(
        sync_page, browser_page):
    browser_page.context.set_offline(True)
    browser_page.get_by_role("button", name="Sync now").click()
    expect(browser_page.get_by_role("alert")).to_contain_text(
        "rostersync could not be reached. Check your internet connection")
    browser_page.context.set_offline(False)
    assert m.SyncRun.query.count() == 0


SERVICE_PROBLEM = "rostersync could not reach a service it needs, so nothing was changed."


def _is_people_search(url):
    return "/settings/user-sync/people?" in url


def _fail_searches_for(page, words):
    """Answers 503 to every request searching for words; other requests go on."""
    page.route(lambda url: parse_qs(urlsplit(url).query).get("q") == [words],
               lambda route: route.fulfill(status=503, body="Unavailable"))


def _search_people(page, words):
    page.get_by_label("Search synced people").fill(words)


def _shows_search_for(page, words):
    expect(page.get_by_text(re.compile(f"people matching “{words}”"))).to_be_visible()


def test_a_problem_stays_while_the_page_polls_and_goes_when_the_next_search_works(
        sync_page, browser_page):
    page = browser_page
    lifecycle.start_run(sync_page.org, sync_page.admin)  # queued, no worker: its progress polls
    page.reload()
    expect(page.get_by_role("progressbar")).to_be_visible()
    _fail_searches_for(page, "zz")
    _search_people(page, "zz")
    problem = page.get_by_role("alert").filter(has_text=SERVICE_PROBLEM)
    expect(problem).to_be_visible()
    for _ in range(2):  # each poll is sent once the one before has answered and been drawn
        with page.expect_request(lambda request: request.url.endswith("/status")):
            pass
    expect(problem).to_be_visible()
    _search_people(page, "o")
    _shows_search_for(page, "o")
    expect(problem).to_be_hidden()


def test_a_search_sent_before_a_click_failed_does_not_hide_the_problem(sync_page, browser_page):
    page = browser_page
    held = []
    page.route(_is_people_search, lambda route: held.append(route))
    with page.expect_request(lambda request: _is_people_search(request.url)):
        _search_people(page, "o")
    page.route("**/settings/user-sync/sync",
               lambda route: route.fulfill(status=503, body="Unavailable"))
    page.get_by_role("button", name="Sync now").click()
    problem = page.get_by_role("alert").filter(has_text=SERVICE_PROBLEM)
    expect(problem).to_be_visible()
    for route in held:  # the search answers after Sync now failed
        route.continue_()
    _shows_search_for(page, "o")
    expect(problem).to_be_visible()


def _sort_by_twice(table, column):
    """Clicks column's header link twice: sorted by it Z to A."""
    header = table.get_by_role("columnheader", name=re.compile(f"^{column}"))
    for order in ("ascending", "descending"):
        header.get_by_role("link").click()
        expect(header).to_have_attribute("aria-sort", order)
    return header


def _row_texts(table):
    return [row.inner_text() for row in table.get_by_role("row").all()[1:]]


def test_after_a_failed_search_the_next_search_keeps_the_people_sorted_as_chosen(
        sync_page, browser_page):
    sync_in_process(sync_page)
    page = browser_page
    page.reload()
    table = page.get_by_role("table", name=re.compile("^Synced people"))
    email = _sort_by_twice(table, "Email")
    sorted_by_email = _row_texts(table)
    assert len(sorted_by_email) > 1
    _fail_searches_for(page, "zz")
    _search_people(page, "zz")
    expect(page.get_by_role("alert").filter(has_text=SERVICE_PROBLEM)).to_be_visible()
    _search_people(page, "")  # everyone again, sorted as the admin chose
    expect(email).to_have_attribute("aria-sort", "descending")
    assert _row_texts(table) == sorted_by_email


def test_after_a_failed_search_the_next_search_keeps_the_schools_sorted_as_chosen(
        sync_page, browser_page, live_server):
    page = browser_page
    page.goto(f"{live_server}/o/{sync_page.org.id}/settings/schools/?status=all")
    table = page.get_by_role("table", name=re.compile("^Schools"))
    school = table.get_by_role("columnheader", name=re.compile("^School"))
    school.get_by_role("link").click()  # sorted by name already: now Z to A
    expect(school).to_have_attribute("aria-sort", "descending")
    search = page.get_by_label("Search schools")
    _fail_searches_for(page, "zz")
    search.fill("zz")
    expect(page.get_by_role("alert").filter(has_text=SERVICE_PROBLEM)).to_be_visible()
    search.fill("field")
    expect(page.get_by_text("2 schools matching “field”")).to_be_visible()
    expect(school).to_have_attribute("aria-sort", "descending")
    expect(table.get_by_role("row").nth(1)).to_contain_text("Southfield Primary")
    expect(table.get_by_role("row").nth(2)).to_contain_text("Northfield Academy")
