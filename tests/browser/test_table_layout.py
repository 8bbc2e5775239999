"""Tables in Chromium at a laptop (1280x900) and a tablet (768x1024) width: no word in any cell
breaks mid-letter (status badges, headers, numbers and dates once read "Acti ve", "Too k"), and
no page gets wider than the window: a wide table scrolls sideways inside its card instead."""
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from microsoft_simulator import demo
from tests.sync_helpers import (NORTHFIELD, NORTHFIELD_ADDED, person,
                                 shared_connected_school, sync_in_process)
from webapp.user_sync import models as m, people as synced_people

pytestmark = pytest.mark.backends("postgresql")

WIDTHS = [pytest.param({"width": 1280, "height": 900}, id="laptop"),
          pytest.param({"width": 768, "height": 1024}, id="tablet")]

# Each word (split where a browser may sensibly wrap: spaces, hyphens, slashes; a <wbr>, as
# after an email's @, ends a text node and so a word) of each cell,
# and the lines its letters landed on: a word on two lines was broken inside itself.
BROKEN_WORDS = """() => {
  const broken = [];
  for (const cell of document.querySelectorAll("td, th")) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (node.parentElement.closest(".visually-hidden")) continue;
      for (const match of node.data.matchAll(/[^\\s\\-\\/]+/g)) {
        const range = document.createRange();
        range.setStart(node, match.index);
        range.setEnd(node, match.index + match[0].length);
        const tops = new Set([...range.getClientRects()].filter(r => r.width > 0)
                                                         .map(r => Math.round(r.top)));
        if (tops.size > 1) broken.push(match[0]);
      }
    }
  }
  return broken;
}"""

BADGES_ON_MORE_THAN_ONE_LINE = """() => [...document.querySelectorAll("td .status, th .status")]
  .filter(badge => {
    const lineHeight = parseFloat(getComputedStyle(badge).lineHeight);
    const padding = parseFloat(getComputedStyle(badge).paddingTop)
                  + parseFloat(getComputedStyle(badge).paddingBottom);
    return badge.getBoundingClientRect().height > lineHeight + padding + 1;
  }).map(badge => badge.textContent.trim())"""

PAGE_OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"

CROPPED_TABLES = """() => [...document.querySelectorAll("table")].filter(table => {
  const wrap = table.closest(".table-wrap");
  return !wrap || (table.scrollWidth > wrap.clientWidth
                   && getComputedStyle(wrap).overflowX !== "auto");
}).length"""


@pytest.fixture
def school_with_history(app, factory, client, microsoft):
    """Two real syncs: someone with a long name and email added, someone suspended, someone
    excluded, then a Preview changes, so every status badge, count and date is on the pages. The leaver and the
    excluded person are named, direct members of Northfield Staff: someone picked from the
    list could be a nested Teaching Assistant, whom removing from Northfield Staff leaves in."""
    school = shared_connected_school(factory, client, microsoft)
    control = microsoft.control
    long_one = control.create_user(
        userPrincipalName="alexandra.featherstonehaugh-montgomery@northfield.example",
        mail="alexandra.featherstonehaugh-montgomery@northfield.example",
        displayName="Alexandra Featherstonehaugh-Montgomery", jobTitle="Head of Modern Languages",
        department="Languages")
    control.add_member(NORTHFIELD, long_one)
    first = sync_in_process(school)
    control.remove_member(NORTHFIELD, demo.OBRIEN_ID)
    synced_people.set_excluded(school.org, person(school.org, demo.RTL_ID).id, True)
    second = sync_in_process(school)
    assert first.status == second.status == "complete", (first.reason, second.reason)
    assert (first.added, second.suspended) == (NORTHFIELD_ADDED + 1, 1), second.reason
    assert sync_in_process(school, kind=m.KIND_PREVIEW).status == "complete"
    return school, second


def pages(org_id, run_id):
    sync = f"/o/{org_id}/settings/user-sync"
    return {"Manage user sync": f"{sync}/", "Sync history": f"{sync}/history",
            "Sync": f"{sync}/runs/{run_id}", "Manage users": f"/o/{org_id}/settings/users/",
            "Troubleshooting": f"{sync}/troubleshooting/"}


@pytest.mark.parametrize("viewport", WIDTHS)
def test_no_table_cell_breaks_inside_a_word_and_no_page_is_wider_than_the_window(
        school_with_history, live_server, browser_page, viewport):
    school, run = school_with_history
    browser_page.set_viewport_size(viewport)
    sign_in(browser_page, live_server, school.admin.email)
    for heading, path in pages(school.org.id, run.id).items():
        browser_page.goto(live_server + path)
        expect(browser_page.get_by_role("heading", level=1)).to_contain_text(heading)
        expect(browser_page.locator("table").first).to_be_visible()
        where = f"{heading} at {viewport['width']}px"
        assert browser_page.evaluate(BROKEN_WORDS) == [], where
        assert browser_page.evaluate(BADGES_ON_MORE_THAN_ONE_LINE) == [], where
        assert browser_page.evaluate(PAGE_OVERFLOW) <= 0, where
        assert browser_page.evaluate(CROPPED_TABLES) == 0, where


def test_the_status_column_has_every_badge_on_the_page(school_with_history, live_server,
                                                       browser_page):
    """The checks above are only worth something if the badges are there to check."""
    school, run = school_with_history
    browser_page.set_viewport_size({"width": 768, "height": 1024})
    sign_in(browser_page, live_server, school.admin.email)
    browser_page.goto(f"{live_server}/o/{school.org.id}/settings/user-sync/?sort=status")
    badges = browser_page.locator("#people-table td .status").all_inner_texts()
    assert {"Active", "Suspended", "Excluded"} <= set(badges)
    expect(browser_page.get_by_role("cell", name="Alexandra Featherstonehaugh-Montgomery",
                                    exact=True)).to_be_visible()


# How many lines of the page's text each row of a table takes: the row's height less its cells'
# vertical padding, over the body's line height (a badge with its reason under it is two).
ROW_LINES = """table => [...table.tBodies[0].rows].map(row => {
  const cell = getComputedStyle(row.cells[0]);
  const inside = row.getBoundingClientRect().height - parseFloat(cell.paddingTop)
               - parseFloat(cell.paddingBottom) - parseFloat(cell.borderBottomWidth);
  return Math.round(inside / parseFloat(getComputedStyle(document.body).lineHeight) * 10) / 10;
})"""

# A table no wider than the card it is in (nothing to scroll to), and its visible headers.
FITS_ITS_CARD = """table => {
  const wrap = table.closest(".table-wrap"), card = table.closest(".card");
  return table.scrollWidth <= wrap.clientWidth
      && table.getBoundingClientRect().right <= card.getBoundingClientRect().right;
}"""
VISIBLE_HEADERS = """table => [...table.tHead.rows[0].cells].filter(th => th.offsetWidth > 0)
  .map(th => [...th.childNodes].map(n => n.nodeType === 3 ? n.data :
       (n.closest && !n.closest(".visually-hidden") ? n.innerText.split(",")[0] : "")).join("")
       .replace(/[▲▼]/g, "").trim())"""

# Each Outcome badge of the history whole inside what the table shows without scrolling.
CUT_OUTCOMES = """table => {
  const wrap = table.closest(".table-wrap").getBoundingClientRect();
  return [...table.querySelectorAll("tbody td:last-child .status")].filter(badge => {
    const box = badge.getBoundingClientRect();
    return box.right > wrap.right || badge.scrollWidth > badge.clientWidth;
  }).map(badge => badge.textContent.trim());
}"""


def signed_in_at(page, live_server, school, width, height, path):
    """The school's admin signed in, at that window size, on that Manage user sync page."""
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, live_server, school.admin.email)
    page.goto(f"{live_server}/o/{school.org.id}/settings/user-sync/{path}")
    return page


def test_at_a_laptop_width_the_people_table_fits_its_card_with_rows_of_one_or_two_lines(
        school_with_history, live_server, browser_page):
    """Once the table was wider than its card, its actions squeezed into the last column and
    each row about 190 px tall (27 people made a 7,164 px page)."""
    school, _ = school_with_history
    page = signed_in_at(browser_page, live_server, school, 1280, 900, "")
    table = page.get_by_role("table", name="Synced people")
    expect(table.get_by_role("row")).to_have_count(NORTHFIELD_ADDED + 2)
    assert table.evaluate(FITS_ITS_CARD)
    assert table.evaluate(VISIBLE_HEADERS) == [
        "Name", "Email", "Job title", "Department", "Status", "Synced through",
        "Last seen in a sync"]
    lines = table.evaluate(ROW_LINES)
    assert len(lines) == NORTHFIELD_ADDED + 1 and max(lines) <= 2.1, lines
    long_row = table.get_by_role("row").filter(has_text="Alexandra Featherstonehaugh-Montgomery")
    expect(long_row).to_contain_text("Head of Modern Languages")
    expect(long_row.get_by_role("cell", name="Northfield Staff")).to_be_visible()


def test_at_a_laptop_width_the_sync_history_shows_every_outcome_whole(
        school_with_history, live_server, browser_page):
    """Once the history table ran past its card and Outcome read "Sync com…": a preview's
    start time and "(preview)" were kept on one line."""
    school, _ = school_with_history
    page = signed_in_at(browser_page, live_server, school, 1280, 900, "history")
    table = page.get_by_role("table", name="Sync runs")
    expect(table.get_by_role("cell", name="Sync complete")).to_have_count(2)
    expect(table.get_by_role("cell", name="Preview ready")).to_have_count(1)
    assert table.evaluate(FITS_ITS_CARD)
    assert table.evaluate(CUT_OUTCOMES) == []


def test_at_a_tablet_width_the_people_table_is_a_short_table_and_the_name_leads_to_the_rest(
        school_with_history, live_server, browser_page):
    """Once a tablet saw Name, Email and Job title, the status and everything after it off to
    the side. Now four columns fit, and the name opens the person's page with the rest and the
    actions."""
    school, _ = school_with_history
    page = signed_in_at(browser_page, live_server, school, 768, 1024, "?sort=status")
    table = page.get_by_role("table", name="Synced people")
    expect(table.get_by_role("row")).to_have_count(NORTHFIELD_ADDED + 2)
    assert table.evaluate(VISIBLE_HEADERS) == ["Name", "Email", "Status", "Last seen in a sync"]
    assert table.evaluate(FITS_ITS_CARD)
    assert page.evaluate(BROKEN_WORDS) == []
    lines = table.evaluate(ROW_LINES)
    assert max(lines) <= 3.1, lines
    for badge in ("Active", "Suspended", "Excluded"):
        expect(table.locator(".status", has_text=badge).first).to_be_visible()

    table.get_by_role("link", name="Alexandra Featherstonehaugh-Montgomery").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Alexandra Featherstonehaugh-Montgomery")
    expect(page.get_by_text("Head of Modern Languages")).to_be_visible()
    expect(page.get_by_text("Languages", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="JSON")).to_be_visible()
    assert page.evaluate(PAGE_OVERFLOW) <= 0
    page.get_by_role("button", name="Exclude from sync").click()
    expect(page.get_by_text("Alexandra Featherstonehaugh-Montgomery is excluded from sync.")
           ).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Manage user sync")
