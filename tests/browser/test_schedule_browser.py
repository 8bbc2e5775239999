"""An admin sets Every day at a time in Chromium, sees Next automatic sync, a tick runs with
--as-of (the CLI, as a real process), and the history marks the run Automatic."""
import re
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from harness.app_config import worker_environment
from tests.microsoft_flow import FAST_WORKER_ENV
from tests.schedule_helpers import due_moment, runs_of, save_schedule
from webapp.clock import frozen_at
from webapp.schedule.due import DAILY, spread_offset
from tests.sync_helpers import shared_connected_school
from webapp.user_sync import models as m

pytestmark = pytest.mark.backends("postgresql")
ROOT = Path(__file__).resolve().parents[2]


def test_every_day_at_a_time_then_a_tick_runs_it_and_history_says_automatic(
        app, factory, client, microsoft, live_server, browser_page, start_worker):
    school = shared_connected_school(factory, client, microsoft)
    page = browser_page
    sign_in(page, live_server, school.admin.email)
    page.goto(f"{live_server}/o/{school.org.id}/settings/user-sync/")
    card = page.get_by_role("region", name="Automatic sync")
    expect(card).to_contain_text("Next automatic sync: none, automatic sync is off.")

    card.get_by_label("Sync automatically").select_option(label="Every day")
    card.get_by_label("Time of day").fill("25:00")
    card.get_by_role("button", name="Save schedule").click()
    expect(card.get_by_text("25:00 is not a time of day: use 00:00 to 23:59.")).to_be_visible()
    expect(card.get_by_label("Time of day")).to_have_attribute("aria-invalid", "true")

    card.get_by_label("Time of day").fill("02:00")
    card.get_by_role("button", name="Save schedule").click()
    expect(card.get_by_text("Schedule saved.")).to_be_visible()
    expect(card).to_contain_text(re.compile(
        r"Next automatic sync:\s+\d+ \w+ \d{4}, 02:[0-2]\d GMT\."))
    expect(card.get_by_text("Europe/London (used for Every day)")).to_be_visible()

    tick = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "sync", "enqueue-due", "--as-of",
         due_moment(school.org).isoformat()], cwd=ROOT, env=worker_environment(app),
        capture_output=True, text=True, timeout=120)
    assert tick.returncode == 0 and "queued an automatic sync" in tick.stdout, tick.stdout
    worker = start_worker(FAST_WORKER_ENV, burst=True)
    assert worker.wait(timeout=120) == 0
    assert runs_of(school.org)[-1].status == m.COMPLETE

    page.goto(f"{live_server}/o/{school.org.id}/settings/user-sync/history")
    runs = page.get_by_role("table", name="Sync runs")
    expect(runs.get_by_role("cell", name="Automatic", exact=True)).to_be_visible()
    page.get_by_label("Show").select_option(label="Automatic")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"trigger=automatic"))
    expect(runs.get_by_role("cell", name="Automatic", exact=True)).to_have_count(1)
    page.goto(f"{live_server}/o/{school.org.id}/settings/user-sync/")
    expect(page.get_by_role("region", name="Automatic sync")).to_contain_text(
        re.compile(r"Next automatic sync:\s+\d+ \w+ \d{4}, \d\d:\d\d GMT"))


@pytest.mark.parametrize("saved_at, shown, clocks", [
    pytest.param(datetime(2026, 12, 3, 12, tzinfo=timezone.utc), "4 Dec 2026, 01:{:02d} GMT", "",
                 id="an-ordinary-day"),
    pytest.param(datetime(2026, 3, 28, 12, tzinfo=timezone.utc), "29 Mar 2026, 02:{:02d} BST",
                 "On 29 Mar 2026 the clocks go forward an hour, so 01:30 does not exist that "
                 "day: the sync runs an hour later", id="spring-forward"),
    pytest.param(datetime(2026, 10, 24, 12, tzinfo=timezone.utc), "25 Oct 2026, 01:{:02d} BST",
                 "On 25 Oct 2026 the clocks go back an hour, so 01:30 happens twice: the sync "
                 "runs once, at the first 01:30 (BST)", id="autumn-two-01:30s"),
])
def test_next_automatic_sync_names_its_zone_and_says_why_its_minute_differs(
        app, factory, client, microsoft, live_server, browser_page, saved_at, shown, clocks):
    school = shared_connected_school(factory, client, microsoft)
    spread = int(spread_offset(school.org.id, DAILY).total_seconds()) // 60
    with frozen_at(saved_at):
        save_schedule(school, "daily", "01:30")
        sign_in(browser_page, live_server, school.admin.email)
        browser_page.goto(f"{live_server}/o/{school.org.id}/settings/user-sync/")
        card = browser_page.get_by_role("region", name="Automatic sync")
        expect(card.locator("#next-automatic-sync")).to_have_text(
            "Next automatic sync: " + shown.format(30 + spread) + ".")
        note = card.locator("#next-sync-note")
        if not spread and not clocks:  # a school whose spread is under a minute (org 46, 59...)
            expect(note).to_have_count(0)
            return
        expect(note).to_contain_text(clocks)
        if spread:
            expect(note).to_contain_text(
                f"You chose 01:30; this school's automatic syncs start {spread} minute"
                f"{'' if spread == 1 else 's'} later, because syncs are spread over up to half "
                "an hour so that schools do not all start at once.")
        if not clocks:
            expect(note).not_to_contain_text("clocks")


def test_other_time_zone_brings_every_zone_into_the_card_and_a_far_zone_stays_chosen(
        app, factory, client, microsoft, live_server, browser_page):
    """The card offers the UK's zones; every other zone is one step away, swapped into the
    field without losing what else was typed, and a saved zone from that list stays chosen."""
    school = shared_connected_school(factory, client, microsoft)
    page = browser_page
    sign_in(page, live_server, school.admin.email)
    page.goto(f"{live_server}/o/{school.org.id}/settings/user-sync/")
    card = page.get_by_role("region", name="Automatic sync")
    zone = card.get_by_label("Time zone")
    expect(zone.locator("option")).to_have_count(7)
    expect(zone).to_have_value("Europe/London")

    card.get_by_label("Sync automatically").select_option(label="Every day")
    card.get_by_label("Time of day").fill("06:45")
    card.get_by_role("link", name="Other time zone…").click()
    expect(zone.locator("option", has_text="Pacific/Auckland")).to_have_count(1)
    expect(zone).to_be_focused()
    assert zone.locator("option").count() > 400
    expect(zone.locator("option", has_text="Asia/Calcutta")).to_have_count(0)
    expect(card.get_by_role("link", name="Other time zone…")).to_have_count(0)
    zone.select_option("Pacific/Auckland")
    expect(card.get_by_label("Time of day")).to_have_value("06:45")
    card.get_by_role("button", name="Save schedule").click()
    expect(card.get_by_text("Schedule saved.")).to_be_visible()
    expect(card.locator("#next-automatic-sync")).to_contain_text(re.compile(r"\d\d:\d\d NZ[DS]T"))

    page.reload()
    zone = page.get_by_role("region", name="Automatic sync").get_by_label("Time zone")
    expect(zone).to_have_value("Pacific/Auckland")
    expect(zone.locator("option")).to_have_count(8)
