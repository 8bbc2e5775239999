"""A sync stopped for review, as an admin meets it in Chromium: Apply removals asks first and
names how many people it suspends (with JavaScript, in the Sync card; without, on a page of its
own); Cancel says what it cancels; Sync now while the review waits starts a fresh sync that
replaces it; and the Automatic sync card below points up to the buttons, not "below"."""
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.microsoft_flow import demo
from tests.schedule_helpers import save_schedule
from tests.sync_helpers import (NORTHFIELD, latest_run, people, shared_connected_school,
                                sync_in_process)
from webapp.user_sync import models as m
from webapp.user_sync.engine.run import run_sync
from webapp.user_sync.settings import save_settings

pytestmark = pytest.mark.backends("postgresql")


def test_apply_removals_asks_naming_the_count_and_sync_now_replaces_the_review(
        app, factory, client, microsoft, live_server, chromium, browser_page):
    school = shared_connected_school(factory, client, microsoft)
    sync_in_process(school)
    save_schedule(school, "daily", "02:00")
    save_settings(school.org.id, False, 1, 1)  # more than one removal needs review
    for microsoft_id in (demo.OBRIEN_ID, demo.MARKUP_ID, demo.RTL_ID):
        school.sim.control.remove_member(NORTHFIELD, microsoft_id)
    assert sync_in_process(school).status == m.NEEDS_REVIEW
    screen = f"{live_server}/o/{school.org.id}/settings/user-sync/"

    no_script = chromium.new_context(java_script_enabled=False)
    try:
        plain = no_script.new_page()
        sign_in(plain, live_server, school.admin.email)
        plain.goto(screen)
        plain.get_by_role("button", name="Apply removals").click()
        expect(plain.get_by_role("heading", name="Suspend 3 people?")).to_be_visible()
        expect(plain.get_by_role("button", name="Suspend 3 people")).to_be_visible()
        plain.get_by_role("link", name="Back to the review").click()
        expect(plain.get_by_role("heading", name="Manage user sync")).to_be_visible()
    finally:
        no_script.close()
    assert people(school.org, status="suspended") == []

    page = browser_page
    sign_in(page, live_server, school.admin.email)
    page.goto(screen)
    expect(page.get_by_role("region", name="Automatic sync")).to_contain_text(
        "paused while a review waits: choose Apply removals or Cancel this sync in the Sync "
        "card above.")
    card = page.get_by_role("region", name="Sync", exact=True)
    expect(card.get_by_role("button", name="Cancel this sync (nobody changes)")).to_be_visible()
    card.get_by_role("button", name="Apply removals").click()
    expect(card.get_by_role("heading", name="Suspend 3 people?")).to_be_visible()
    expect(page.get_by_role("heading", name="Manage user sync")).to_have_count(1)  # in the card
    card.get_by_role("link", name="Back to the review").click()
    expect(card.get_by_role("button", name="Apply removals")).to_be_visible()
    expect(card).to_contain_text("Pressing Sync now instead starts a fresh sync that replaces "
                                 "this one.")
    card.get_by_role("button", name="Sync now").click()
    expect(card).to_contain_text("Waiting for a worker")
    replacing = latest_run(school)
    assert replacing.status == m.QUEUED
    run_sync(replacing.id)  # the same three leavers: a review of its own, which the card polls
    expect(card.get_by_role("button", name="Apply removals")).to_be_visible()
    assert people(school.org, status="suspended") == []
    card.get_by_role("button", name="Apply removals").click()
    card.get_by_role("button", name="Suspend 3 people").click()
    expect(card).to_contain_text("Waiting for a worker")
