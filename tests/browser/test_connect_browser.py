"""An admin connects to Microsoft and picks a group in a real browser, as they would."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.microsoft_flow import demo, oak_trust
from webapp.microsoft.selection import group_choices_for

pytestmark = pytest.mark.backends("postgresql")


def test_admin_connects_and_picks_a_group(app, db, factory, live_server, browser_page, start_worker, microsoft):
    oak = oak_trust(factory)
    start_worker()
    page = browser_page
    sign_in(page, live_server, oak.admin.email)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    page.get_by_role("link", name="Manage user sync", exact=True).click()
    page.get_by_role("navigation", name="User sync").get_by_role(
        "link", name="Import settings", exact=True).click()
    expect(page.get_by_role("link", name="Microsoft")).to_have_attribute("aria-current", "page")
    expect(page.get_by_text("Microsoft 365 groups cannot be synced")).to_be_visible()
    page.get_by_role("button", name="Connect with Microsoft").click()

    # Microsoft's pages (the simulator): asked which account, never silently signed in.
    expect(page.get_by_role("heading", name="Pick an account")).to_be_visible()
    page.get_by_role("button", name="Use another account").click()
    expect(page.get_by_label("Email")).to_have_value(demo.ADMIN_UPN)  # login_hint
    page.get_by_label("Password").fill(demo.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Accept").click()

    # Back in rostersync: the picker fills in once the worker has fetched the groups.
    expect(page.get_by_role("heading", name=re.compile("Choose the groups to sync"))).to_be_visible()
    search = page.get_by_label("Search groups")
    expect(search).to_be_visible(timeout=30_000)
    search.fill("northfield staff")
    expect(page.get_by_role("checkbox", name="Oak Trust Everyone", exact=True)).to_have_count(0)
    page.get_by_role("checkbox", name="Northfield Staff", exact=True).check()
    page.get_by_role("button", name="Save groups").click()

    expect(page.get_by_text("Northfield Academy saved its groups. Syncing: Northfield Staff.", exact=False)).to_be_visible()
    expect(page.get_by_text(re.compile(r"Connected\s+as " + re.escape(demo.ADMIN_UPN)))).to_be_visible()
    db.session.expire_all()
    assert [c.group_id for c in group_choices_for(oak.north)] == [demo.NORTHFIELD_STAFF_GROUP_ID]


def test_microsoft_365_groups_are_listed_but_not_choosable(app, factory, live_server, browser_page, start_worker, microsoft):
    oak = oak_trust(factory)
    start_worker()
    page = browser_page
    sign_in(page, live_server, oak.admin.email)
    page.goto(f"{live_server}/o/{oak.north.id}/settings/user-sync/import/microsoft")
    page.get_by_role("button", name="Connect with Microsoft").click()
    page.get_by_role("button", name="Use another account").click()
    page.get_by_label("Password").fill(demo.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Accept").click()
    page.get_by_label("Search groups").fill("everyone")
    everyone = page.get_by_role("checkbox", name="Oak Trust Everyone", exact=True)
    expect(everyone).to_be_disabled()
    expect(page.get_by_text("Microsoft 365 groups are not supported")).to_be_visible()
