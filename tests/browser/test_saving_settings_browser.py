"""What an admin sees when saving: the Automatic sync card keeps the time of day when another
frequency is chosen, keyboard focus lands on what the save said (never on the page's body),
nothing the page does breaks the Content-Security-Policy, and every page has its icon."""
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.schedule_helpers import schedule_of
from tests.sync_helpers import connected_school

pytestmark = pytest.mark.backends("sqlite")  # what the browser shows, not what SQL does


def csp_violations(page):
    """Chromium reports each refusal on the console; collected for the whole test."""
    refused = []
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text else None)
    return refused


def focused_element(page):
    return page.evaluate("() => document.activeElement.tagName + ' ' + "
                         "(document.activeElement.textContent || '').trim()")


def test_saving_the_schedule_keeps_the_time_moves_focus_and_breaks_no_policy(
        app, factory, client, microsoft, live_server, browser_page):
    school = connected_school(factory, client, microsoft)
    page = browser_page
    refused = csp_violations(page)
    sign_in(page, live_server, school.admin.email)
    page.goto(f"{live_server}/o/{school.org.id}/settings/user-sync/")
    card = page.get_by_role("region", name="Automatic sync")

    card.get_by_label("Sync automatically").select_option(label="Every day")
    card.get_by_label("Time of day").fill("01:30")
    card.get_by_role("button", name="Save schedule").click()
    expect(card.get_by_role("status")).to_have_text("Schedule saved.")
    expect(card.get_by_role("status")).to_be_focused()

    # Password managers and screenshot tools set styles on fields (through CSSOM, which the CSP
    # allows); a swap must not copy that onto the new card as an inline style attribute.
    page.locator("#schedule-time").evaluate("field => { field.style.outline = '2px solid'; }")
    card.get_by_label("Sync automatically").select_option(label="Every hour")
    card.get_by_role("button", name="Save schedule").click()
    expect(card.get_by_role("status")).to_be_focused()
    expect(card.get_by_label("Time of day")).to_have_value("01:30")
    assert schedule_of(school.org).minute_of_day == 90 and schedule_of(school.org).frequency == "1h"

    card.get_by_label("Time of day").fill("25:00")
    card.get_by_role("button", name="Save schedule").click()
    expect(card.get_by_label("Time of day")).to_be_focused()  # the field that was refused
    expect(card.get_by_label("Time of day")).to_have_attribute("aria-invalid", "true")

    page.reload()
    page.get_by_role("group", name="Erase leavers after").get_by_label("This many days:").check()
    page.get_by_label("Days to keep a leaver's details").fill("30")
    page.get_by_role("button", name="Save retention").click()
    expect(page.get_by_role("status").filter(has_text="Leaver retention saved.")).to_be_focused()
    assert not refused, refused

    icon = page.locator("link[rel=icon]").get_attribute("href")
    for address in (icon, "/favicon.ico"):  # the page's icon, and where browsers look anyway
        answer = page.request.get(f"{live_server}{address}")
        assert answer.status == 200, address
        assert answer.headers["content-type"].startswith("image/"), answer.headers
