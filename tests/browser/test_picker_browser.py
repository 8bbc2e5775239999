"""In Chromium: the group picker as a person uses it. A tick moves the group under Chosen
groups at once, keyboard focus staying on the box; every Exclude box lines up in one column;
Show more adds the next 50 groups under the ones shown, keeping the ticks."""
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.microsoft_flow import run_quick_jobs

pytestmark = pytest.mark.backends("postgresql")


def test_ticks_move_at_once_exclude_boxes_line_up_and_show_more_adds_to_the_list(
        app, school, live_server, browser_page):
    control = school.sim.control
    for n in range(60):
        control.create_group(f"Aardvark Team {n:02d}" + (" (with a much longer name)" if n % 3 else ""))
    run_quick_jobs(app)  # the group snapshot the picker lists
    page = browser_page
    sign_in(page, live_server, school.admin.email)
    page.goto(f"{live_server}/o/{school.org.id}/settings/user-sync/import/microsoft/groups")
    chosen = page.get_by_role("group", name="Chosen groups")

    # Ticked from the keyboard: under Chosen groups straight away, with focus still on it.
    box = page.get_by_role("checkbox", name="Exclude members of Aardvark Team 00", exact=True)
    box.focus()
    page.keyboard.press("Space")
    moved = chosen.get_by_role("checkbox", name="Exclude members of Aardvark Team 00", exact=True)
    expect(moved).to_be_checked()
    expect(moved).to_be_focused()
    expect(page.get_by_role("checkbox", name="Aardvark Team 00", exact=True)).to_have_count(1)

    # One column of Exclude boxes, whatever the length of each name.
    lefts = {round(b["x"]) for b in (
        excluded.bounding_box() for excluded in
        page.get_by_role("checkbox", name="Exclude members of ").all()[:12])}
    assert len(lefts) == 1, lefts

    # Show more adds the next 50 under the first 50; the tick is kept, focus on the first new.
    results = page.locator("fieldset.group-list").nth(1).locator("li")
    expect(results).to_have_count(50)
    first_shown = results.first.inner_text()
    page.get_by_role("button", name="Show more groups (next 50)").click()
    expect(results).not_to_have_count(50)
    assert results.first.inner_text() == first_shown
    assert results.count() > 50
    expect(results.nth(50).get_by_role("checkbox").first).to_be_focused()
    expect(moved).to_be_checked()  # the tick made before Show more is kept
    page.get_by_role("checkbox", name="Aardvark Team 57", exact=True).check()
    expect(chosen.get_by_role("checkbox", name="Aardvark Team 57", exact=True)).to_be_checked()
    expect(results.first).to_have_text(first_shown)  # the list stays as long as it was
    assert results.count() > 50
    page.get_by_role("button", name="Save groups").click()
    expect(page.get_by_text("Syncing: Aardvark Team 57, Northfield Staff; never syncing: "
                            "Aardvark Team 00", exact=False).first).to_be_visible()
