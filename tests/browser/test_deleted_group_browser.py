"""In Chromium: a chosen group deleted in Microsoft. The failed sync names it and links to
Import settings; after Refresh groups the picker warns under Chosen groups that it no longer
exists and what to do; Save groups refuses naming it."""
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.microsoft_flow import run_quick_jobs
from tests.selection_helpers import choose
from tests.sync_helpers import NORTHFIELD, sync_in_process
from webapp.extensions import db
from webapp.microsoft.models import SnapshotGroup
from webapp.user_sync import models as m

pytestmark = pytest.mark.backends("postgresql")

ART_TEAM = "Northfield Art Team 01"


def test_an_excluded_group_deleted_in_microsoft_is_named_warned_about_and_linked(
        app, school, live_server, browser_page):
    run_quick_jobs(app)  # the group snapshot the picker lists
    art = db.session.query(SnapshotGroup).filter_by(display_name=ART_TEAM).one().group_id
    choose(school, synced=[NORTHFIELD], excluded=[art])
    school.sim.control.delete_group(art)
    assert sync_in_process(school).status == m.FAILED
    page = browser_page
    sign_in(page, live_server, school.admin.email)

    page.goto(f"{live_server}/o/{school.org.id}/settings/user-sync/")
    card = page.get_by_role("region", name="Sync", exact=True)
    expect(card).to_contain_text(f"The chosen group “{ART_TEAM}” no longer exists in Microsoft")
    expect(card).to_contain_text("it can no longer keep its members out of the sync. Syncs stop "
                                 "rather than sync them. In Import settings, change the groups")
    card.get_by_role("link", name="Import settings").click()  # once plain text: a dead end
    page.wait_for_url("**/import/microsoft")

    page.goto(f"{live_server}/o/{school.org.id}/settings/user-sync/import/microsoft/groups")
    page.get_by_role("button", name="Refresh groups").click()
    run_quick_jobs(app)
    page.reload()
    chosen = page.get_by_role("group", name="Chosen groups")
    exclude = chosen.get_by_role("checkbox", name=f"Exclude members of {ART_TEAM}")
    expect(exclude).to_be_checked()
    warning = chosen.get_by_text("No longer exists in Microsoft")
    expect(warning).to_be_visible()
    expect(chosen.locator("li").filter(has_text=ART_TEAM)).to_contain_text(
        "it can no longer keep its members out of the sync")
    expect(chosen.get_by_text("No longer exists in Microsoft")).to_have_count(1)  # only the Art Team
    page.get_by_role("button", name="Save groups").click()
    expect(page.get_by_role("alert").filter(has_text=f"“{ART_TEAM}” is no longer in your "
                                                     "organisation's Microsoft tenant")
           ).to_be_visible()
    page.goto(f"{live_server}/o/{school.org.id}/settings/user-sync/import/microsoft")
    expect(page.get_by_role("alert")).to_contain_text(
        f"“{ART_TEAM}” no longer exists in Microsoft (deleted, perhaps), so it can no longer keep "
        "its members out of the sync")
    page.get_by_role("alert").get_by_role("link", name="Change the groups").click()
    chosen.get_by_role("checkbox", name=f"Exclude members of {ART_TEAM}").uncheck()
    page.get_by_role("button", name="Save groups").click()
    expect(page.get_by_text("Syncing: Northfield Staff.", exact=False).first).to_be_visible()
    expect(page.locator("#groups-gone")).to_have_count(0)
