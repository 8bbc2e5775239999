"""Settings › Activity as an admin uses it: a date the log cannot hold gets a message by its
field (it once answered 500), Export CSV gives what the filter form says (it once ignored the
filter), and the page for an unexpected error leads back to where the admin was."""
import csv
import io
from datetime import datetime, timezone

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from webapp import audit
from webapp.audit import actions
from webapp.extensions import db

pytestmark = pytest.mark.backends("sqlite")  # what the browser shows, not what SQL does


def add_old_previews(org, count):
    for _ in range(count):
        entry = audit.record(actions.PREVIEW_STARTED, org.id, after={"group": "Staff"})
        entry.created_at = datetime(2025, 1, 10, 12, tzinfo=timezone.utc)
    db.session.commit()


def test_activity_refuses_an_impossible_date_exports_the_filter_and_errors_lead_back(
        admin, live_server, browser_page, failing_view):
    add_old_previews(admin.org, 3)
    page = browser_page
    sign_in(page, live_server, admin.user.email)
    activity = f"{live_server}/o/{admin.org.id}/settings/activity/"
    page.goto(activity)

    page.get_by_label("To (date)").fill("9999-12-31")
    page.get_by_role("button", name="Filter").click()
    to_date = page.get_by_label("To (date)")
    expect(to_date).to_have_attribute("aria-invalid", "true")
    expect(to_date).to_have_accessible_description(
        "Enter a date from 1 Jan 2000 to 31 Dec 2099, or leave To empty for no end date.")
    expect(page.get_by_role("table")).to_have_count(0)

    # The filter filled in but not applied: Export CSV still exports what the form says.
    page.get_by_label("Action").select_option(label="Preview started")
    page.get_by_label("From (date)").fill("2025-01-10")
    to_date.fill("2025-01-10")
    with page.expect_download() as download:
        page.get_by_role("button", name="Export CSV").click()
    rows = list(csv.reader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    assert [row[1] for row in rows[1:]] == ["Preview started"] * 3, rows

    page.evaluate(f"() => {{ location.href = '{failing_view}'; }}")  # a link here that fails
    expect(page.get_by_role("heading", name="Something went wrong")).to_be_visible()
    expect(page.get_by_role("link", name="Go to your home page")).to_be_visible()
    page.get_by_role("link", name="Back to the page you were on").click()
    expect(page.get_by_role("heading", name="Activity")).to_be_visible()


@pytest.mark.parametrize("width", [1280, 768])
def test_activity_reads_in_words_in_the_schools_zone_and_values_do_not_wrap_a_letter_a_line(
        admin, live_server, browser_page, width):
    from tests.browser.test_table_layout import BROKEN_WORDS
    audit.record(actions.GROUP_CHANGED, admin.org.id, before={
        "synced_groups": "Northfield Staff", "excluded_groups": None}, after={
        "synced_groups": "Northfield Staff, Northfield Teaching Assistants",
        "excluded_groups": "Northfield Pupils 2026"})
    schedule = audit.record(actions.SCHEDULE_CHANGED, admin.org.id, before={
        "frequency": "off", "minute_of_day": None, "time_zone": "Europe/London"}, after={
        "frequency": "daily", "minute_of_day": 90, "time_zone": "Europe/London"})
    schedule.created_at = datetime(2026, 7, 2, 14, 5, tzinfo=timezone.utc)
    db.session.commit()
    page = browser_page
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, live_server, admin.user.email)
    page.goto(f"{live_server}/o/{admin.org.id}/settings/activity/")
    row = page.get_by_role("row").filter(has_text="Sync schedule changed")
    expect(row).to_contain_text("2 Jul 2026, 15:05 BST")
    expect(row.get_by_role("cell").nth(5)).to_have_text("Automatic syncEvery dayTime of day01:30")
    assert page.evaluate(BROKEN_WORDS) == [], f"a word broken across lines at {width}px"
    # A value of two or three words sits on one or two lines, not a letter a line.
    heights = page.evaluate("""() => [...document.querySelectorAll('.compact-values dd')].map(
        dd => dd.getBoundingClientRect().height / parseFloat(getComputedStyle(dd).lineHeight))""")
    assert heights and max(heights) <= 3, heights
