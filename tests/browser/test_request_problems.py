"""A click whose HTMX request fails says so in the page: htmx itself swaps nothing for an error
answer, so without app.js the admin would see a button that does nothing."""
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.sync_helpers import shared_connected_school
from webapp.extensions import db
from webapp.orgs.models import Membership
from webapp.user_sync import models as m

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
