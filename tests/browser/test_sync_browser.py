"""An admin presses Sync now in Chromium, watches the bar fill, and reads the synced people."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.microsoft_flow import FAST_WORKER_ENV, demo
from tests.sync_helpers import connected_school

pytestmark = pytest.mark.backends("postgresql")
USERS = 3000  # four pages of up to 999


def test_sync_now_shows_progress_then_the_people(app, factory, client, microsoft, live_server,
                                                 browser_page, start_worker):
    microsoft.control.reset(users=USERS)
    school = connected_school(factory, client, microsoft, demo.GENERATED_STAFF_GROUP_ID)
    microsoft.control.set_faults(latency_ms=700)  # slow enough to watch the bar move
    start_worker(FAST_WORKER_ENV)
    page = browser_page
    sign_in(page, live_server, school.admin.email)
    page.goto(f"{live_server}/o/{school.org.id}/settings/user-sync/")
    expect(page.get_by_text("Never synced")).to_be_visible()

    page.get_by_role("button", name="Sync now").click()
    bar = page.get_by_role("progressbar")
    expect(bar).to_be_visible()
    expect(page.get_by_text(re.compile(r"Fetched [\d,]+ of 3,000"))).to_be_visible(timeout=30_000)
    expect(bar).to_have_attribute("max", str(USERS))
    sync = page.get_by_role("region", name="Sync", exact=True)
    expect(sync.get_by_text("Sync complete")).to_be_visible(timeout=60_000)
    expect(bar).to_have_count(0)
    # The Connection card's Last run refreshed itself too.
    expect(page.get_by_role("region", name="Connection")).to_contain_text("Sync complete")

    # The table refreshed itself when the run ended.
    table = page.get_by_role("table", name="Synced people")
    expect(page.get_by_text(re.compile(r"^2,985 people\."))).to_be_visible()
    expect(table.get_by_role("row")).to_have_count(51)  # header + the first 50
    page.get_by_label("Search synced people").fill("gen.000123@")
    expect(table.get_by_role("cell", name="gen.000123@oaklearning.example", exact=True)).to_be_visible()
    expect(page.get_by_text(re.compile(r"^1 person matching"))).to_be_visible()
    page.get_by_label("Status").select_option("suspended")
    expect(table.get_by_text("Nobody found.")).to_be_visible()
