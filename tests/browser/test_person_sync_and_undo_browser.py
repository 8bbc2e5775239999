"""In Chromium, by accessible names: Sync this person now for a new joiner shows them added;
Undo this sync -> its preview -> Confirm undo puts the suspended people back, and Automatic sync
shows paused. The quick jobs run in this process (run_quick_jobs) while the page polls."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.browser.test_first_hour import assert_accessible
from tests.microsoft_flow import demo, run_quick_jobs
from tests.schedule_helpers import save_schedule
from tests.sync_helpers import NORTHFIELD, sync_in_process
from webapp.user_sync import models as m

pytestmark = pytest.mark.backends("postgresql")
JOINER = f"new.joiner@{demo.TENANT_DOMAIN}"
_, NORTH, _, _, _ = demo.demo_users()
REMOVED = NORTH[9:12]  # three ordinary teachers taken out of Northfield Staff by mistake


def test_sync_a_joiner_now_then_undo_a_bad_sync(app, school, live_server, browser_page):
    assert sync_in_process(school).status == m.COMPLETE  # 27 people
    save_schedule(school, "daily", "02:00")
    control = school.sim.control
    control.add_member(NORTHFIELD, control.create_user(
        userPrincipalName=JOINER, mail=JOINER, displayName="New Joiner", jobTitle="Teacher"))
    page = browser_page
    sign_in(page, live_server, school.admin.email)
    sync_page = f"{live_server}/o/{school.org.id}/settings/user-sync/"

    page.goto(sync_page)
    why = page.get_by_role("region", name="Why isn't this person synced?")
    why.get_by_label("Name or email").fill(JOINER)
    why.get_by_role("button", name="Check").click()
    expect(why.get_by_text("not synced yet")).to_be_visible()
    assert_accessible(page, "a why answer offering Sync this person now")
    why.get_by_role("button", name="Sync this person now").click()
    expect(why.get_by_text(f"Syncing {JOINER}")).to_be_visible()
    assert run_quick_jobs(app) == []
    expect(why.get_by_text("Added New Joiner, synced through Northfield Staff.")).to_be_visible()
    table = page.get_by_role("table", name="Synced people")
    expect(table.get_by_role("cell", name=JOINER, exact=True)).to_be_visible()  # refreshed itself

    for microsoft_id in REMOVED:
        control.remove_member(NORTHFIELD, microsoft_id)
    bad = sync_in_process(school)
    assert bad.suspended == 3, bad.reason
    page.goto(f"{sync_page}runs/{bad.id}")
    page.get_by_role("link", name="Undo this sync").click()
    expect(page.get_by_role("heading", name="Would be reinstated (3)")).to_be_visible()
    expect(page.get_by_text("Automatic sync will be paused")).to_be_visible()
    assert_accessible(page, "the undo preview")
    page.get_by_role("button", name="Confirm undo").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Undo of a sync")
    assert run_quick_jobs(app) == []
    expect(page.get_by_text("Sync undone")).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Undo of the sync of .*: 3 reinstated"))).to_be_visible()

    page.goto(sync_page)
    expect(page.get_by_text("28 active · 0 suspended · 0 excluded in all.")).to_be_visible()
    automatic = page.get_by_role("region", name="Automatic sync")
    expect(automatic).to_contain_text("paused because a sync was undone")
