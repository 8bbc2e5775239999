"""Two tabs in Chromium: signed out in one, the other's HTMX search and Sync now take the whole
tab to the sign-in page, which says the admin was signed out and brings them back after."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.sync_helpers import shared_connected_school
from webapp.auth.signed_out import SIGNED_OUT
from webapp.user_sync import models as m

pytestmark = pytest.mark.backends("postgresql")


@pytest.fixture
def two_tabs(app, factory, client, microsoft, live_server, browser_page):
    """Tab one on Manage user sync; tab two (same browser, same cookies) has just signed out."""
    school = shared_connected_school(factory, client, microsoft)
    sign_in(browser_page, live_server, school.admin.email)
    sync_url = f"{live_server}/o/{school.org.id}/settings/user-sync/"
    browser_page.goto(sync_url)
    other_tab = browser_page.context.new_page()
    other_tab.goto(sync_url)
    other_tab.get_by_role("button", name="Sign out").click()
    expect(other_tab.get_by_text("You have signed out.")).to_be_visible()
    return browser_page, sync_url, school


def expect_signed_out_page(tab, sync_url):
    expect(tab).to_have_url(re.compile(r"/login\?next="))
    expect(tab.get_by_role("heading", name="Sign in")).to_have_count(1)
    expect(tab.get_by_text(SIGNED_OUT)).to_be_visible()
    expect(tab.locator("#people-table")).to_have_count(0)  # a page visit, not a swapped card


def test_searching_after_signing_out_in_another_tab_goes_to_sign_in_and_back(two_tabs):
    tab, sync_url, school = two_tabs
    tab.get_by_label("Search synced people").fill("ann")
    expect_signed_out_page(tab, sync_url)
    tab.get_by_label("Email").fill(school.admin.email)  # on the page it was sent to, next kept
    tab.get_by_label("Password").fill("password")
    tab.get_by_role("button", name="Sign in", exact=True).click()
    expect(tab).to_have_url(sync_url)
    expect(tab.get_by_role("heading", name="Manage user sync")).to_be_visible()


def test_sync_now_after_signing_out_in_another_tab_goes_to_sign_in_and_starts_nothing(
        two_tabs):
    tab, sync_url, _ = two_tabs
    tab.get_by_role("button", name="Sync now").click()
    expect_signed_out_page(tab, sync_url)
    expect(tab.get_by_text("out of date")).to_have_count(0)
    assert m.SyncRun.query.count() == 0
