"""In Chromium: two staff groups and an excluded pupil group chosen by accessible names, saved,
synced by a real worker; the people table and the CSV name the groups each person came through."""
import csv
import io

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.microsoft_flow import FAST_WORKER_ENV
from tests.selection_helpers import build_school_tenant
from tests.sync_helpers import shared_connected_school

pytestmark = pytest.mark.backends("postgresql")


def test_two_groups_and_an_exclusion_chosen_saved_and_synced(app, factory, client, microsoft,
                                                             live_server, browser_page,
                                                             start_worker):
    school = shared_connected_school(factory, client, microsoft)
    build_school_tenant(microsoft.control)  # before the worker takes the group snapshot
    start_worker(FAST_WORKER_ENV)
    page = browser_page
    sign_in(page, live_server, school.admin.email)
    page.goto(f"{live_server}/o/{school.org.id}/settings/user-sync/import/microsoft/groups")

    search = page.get_by_label("Search groups")
    expect(search).to_be_visible(timeout=30_000)
    page.get_by_role("checkbox", name="Northfield Staff", exact=True).uncheck()
    search.fill("staff")
    page.get_by_role("checkbox", name="Teaching Staff", exact=True).check()
    page.get_by_role("checkbox", name="Support Staff", exact=True).check()
    search.fill("pupils")
    chosen = page.get_by_role("group", name="Chosen groups")
    expect(chosen.get_by_role("checkbox", name="Teaching Staff", exact=True)).to_be_checked()
    exclude = page.get_by_role("checkbox", name="Exclude members of All Pupils")
    exclude.focus()
    page.keyboard.press("Space")  # reachable and usable from the keyboard
    expect(exclude).to_be_checked()
    # Preview the ticks first: the outcome says they are not saved, offers to save them, and
    # going back to the picker keeps the previewed ticks.
    page.get_by_role("button", name="Preview changes").click()
    sync_card = page.get_by_role("region", name="Sync", exact=True)
    expect(sync_card).to_contain_text("If you save these groups and then sync:", timeout=60_000)
    expect(sync_card).not_to_contain_text("If you sync now")
    expect(sync_card).to_contain_text("Sync now uses the saved groups (Syncing: Northfield "
                                      "Staff) until you save these.")
    sync_card.get_by_role("link", name="Back to the groups with these ticks").click()
    chosen = page.get_by_role("group", name="Chosen groups")
    expect(chosen.get_by_role("checkbox", name="Teaching Staff", exact=True)).to_be_checked()
    expect(chosen.get_by_role("checkbox", name="Support Staff", exact=True)).to_be_checked()
    expect(page.get_by_role("checkbox", name="Exclude members of All Pupils")).to_be_checked()
    expect(chosen.get_by_role("checkbox", name="Northfield Staff", exact=True)).to_have_count(0)
    page.goto(f"{live_server}/o/{school.org.id}/settings/user-sync/")
    sync_card.get_by_role("button", name="Save these groups").click()
    expect(page.get_by_text("Syncing: Support Staff, Teaching Staff; never syncing: All Pupils",
                            exact=False).first).to_be_visible()

    page.goto(f"{live_server}/o/{school.org.id}/settings/user-sync/")
    expect(page.get_by_role("region", name="Connection")).to_contain_text(
        "Syncing: Support Staff, Teaching Staff; never syncing: All Pupils")
    page.get_by_role("button", name="Sync now").click()
    expect(page.get_by_role("region", name="Sync", exact=True).get_by_text("Sync complete")
           ).to_be_visible(timeout=60_000)
    table = page.get_by_role("table", name="Synced people")
    expect(page.get_by_text("8 people.", exact=False).first).to_be_visible()
    row = table.get_by_role("row").filter(has_text="Person T3")
    expect(row.get_by_role("cell", name="Support Staff, Teaching Staff", exact=True)).to_be_visible()
    expect(table.get_by_text("Person P1")).to_have_count(0)

    with page.expect_download() as download:
        page.get_by_text("Export CSV").click()
    rows = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    through = {r["display_name"]: r["synced_through"] for r in rows}
    assert through["Person T1"] == "Teaching Staff" and through["Person S2"] == "Support Staff"
    assert through["Person U1"] == "Support Staff, Teaching Staff"  # nested in both
    assert "Person P1" not in through and len(rows) == 8

    # Preview changes sends the same form to its own address (the button's formaction).
    page.goto(f"{live_server}/o/{school.org.id}/settings/user-sync/import/microsoft/groups")
    page.get_by_role("button", name="Preview changes").click()
    # The ticks are the saved groups, so it says so (not "not saved").
    expect(page.get_by_text("Previewing the saved groups (Syncing: Support Staff, Teaching Staff; "
                            "never syncing: All Pupils)", exact=False).first).to_be_visible()
