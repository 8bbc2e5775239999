"""In Chromium: the group picker as a person uses it. A tick moves the group under Chosen
groups at once, keyboard focus staying on the box; every Exclude box lines up in one column;
Show more adds the next 50 groups under the ones shown, keeping the ticks. A tick and a search
crossing on a slow network (one request held back by the test) keep the tick and show the
groups matching what was typed last. A search or a tick whose request fails (a 503, the network
gone) says so and keeps every tick and the words typed, and Save groups saves them."""
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



@pytest.fixture
def clubs_picker(app, school, live_server, browser_page):
    """The picker, signed in, listing Chess Club beside two Rowing groups and the rest."""
    for name in ("Chess Club", "Rowing Squad", "Rowing Coaches"):
        school.sim.control.create_group(name)
    run_quick_jobs(app)  # the group snapshot the picker lists
    page = browser_page
    sign_in(page, live_server, school.admin.email)
    page.goto(f"{live_server}/o/{school.org.id}/settings/user-sync/import/microsoft/groups")
    expect(page.get_by_role("checkbox", name="Chess Club", exact=True)).to_be_visible()
    return page


def _is_picker_post(request, action):
    return request.method == "POST" and f"action={action}" in (request.post_data or "").split("&")


def _slow(page, action, start):
    """Does start() and holds back the picker request it makes (action: tick or search), as a
    slow network would, until _release. Returns the held routes."""
    held = []
    page.route("**/microsoft/groups", lambda route: held.append(route) if _is_picker_post(
        route.request, action) else route.continue_())
    with page.expect_request(lambda request: _is_picker_post(request, action)):
        start()
    return held


def _release(page, held):
    """Lets the held requests go on and waits until htmx has dealt with every answer."""
    for route in held:
        route.continue_()
    page.wait_for_function("() => !document.querySelector('.htmx-request')")


def _tick_chess_club(page):
    page.get_by_role("checkbox", name="Chess Club", exact=True).check()


def _search_rowing(page):
    page.get_by_label("Search groups").fill("Rowing")


def _shows_chess_club_chosen_and_the_rowing_groups(page):
    expect(page.get_by_label("Search groups")).to_have_value("Rowing")
    results = page.get_by_role("group", name="2 other groups matching “Rowing”")
    expect(results).to_be_visible()
    expect(results.get_by_role("checkbox", name="Rowing Squad", exact=True)).not_to_be_checked()
    expect(results.get_by_role("checkbox", name="Rowing Coaches", exact=True)).to_be_visible()
    chosen = page.get_by_role("group", name="Chosen groups")
    expect(chosen.get_by_role("checkbox", name="Chess Club", exact=True)).to_be_checked()
    expect(page.get_by_role("checkbox", name="Chess Club", exact=True)).to_have_count(1)
    expect(page.get_by_role("alert")).to_be_hidden()  # nothing failed, so nothing to say
    page.get_by_role("button", name="Save groups").click()
    expect(page.get_by_text("Syncing: Chess Club, Northfield Staff", exact=False).first
           ).to_be_visible()


def test_typing_a_search_while_a_tick_is_on_its_way_keeps_the_tick_and_the_new_search(
        clubs_picker):
    held = _slow(clubs_picker, "tick", lambda: _tick_chess_club(clubs_picker))
    _search_rowing(clubs_picker)
    expect(clubs_picker.get_by_role("group", name="2 other groups matching “Rowing”")
           ).to_be_visible()
    _release(clubs_picker, held)  # the tick's answer last, drawn for the search before "Rowing"
    _shows_chess_club_chosen_and_the_rowing_groups(clubs_picker)


def test_ticking_while_a_search_is_on_its_way_keeps_the_tick_and_the_new_search(clubs_picker):
    held = _slow(clubs_picker, "search", lambda: _search_rowing(clubs_picker))
    _tick_chess_club(clubs_picker)  # still listed: the search has not answered
    expect(clubs_picker.get_by_role("group", name="Chosen groups").get_by_role(
        "checkbox", name="Chess Club", exact=True)).to_be_checked()
    _release(clubs_picker, held)  # the search's answer last, drawn before Chess Club was ticked
    _shows_chess_club_chosen_and_the_rowing_groups(clubs_picker)


def _fail(page, action, answer):
    """Makes every picker request for action (tick or search) fail: answer(route) aborts it or
    fulfils it with an error. Other requests go on (through any other _fail first)."""
    page.route("**/microsoft/groups", lambda route: answer(route) if _is_picker_post(
        route.request, action) else route.fallback())


def _saves_chess_club(page):
    page.get_by_role("button", name="Save groups").click()
    expect(page.get_by_text("Syncing: Chess Club, Northfield Staff", exact=False).first
           ).to_be_visible()


def test_a_failed_search_says_so_and_keeps_the_chosen_groups_and_the_words(clubs_picker):
    page = clubs_picker
    _tick_chess_club(page)
    chosen = page.get_by_role("group", name="Chosen groups")
    expect(chosen.get_by_role("checkbox", name="Chess Club", exact=True)).to_be_checked()
    _fail(page, "search", lambda route: route.fulfill(status=503, body="Service Unavailable"))
    _search_rowing(page)
    expect(page.get_by_role("alert")).to_contain_text(
        "rostersync could not reach a service it needs, so nothing was changed. "
        "Try again in a minute.")
    expect(page.get_by_label("Search groups")).to_have_value("Rowing")
    expect(chosen.get_by_role("checkbox", name="Chess Club", exact=True)).to_be_checked()
    expect(chosen.get_by_role("checkbox", name="Northfield Staff", exact=True)).to_be_checked()
    # The list drawn for the search before "Rowing" is gone, not shown under the new words.
    expect(page.get_by_role("checkbox", name="Rowing Squad", exact=True)).to_have_count(0)
    _saves_chess_club(page)


def test_a_tick_then_a_search_both_failing_keep_the_tick_for_save(clubs_picker):
    page = clubs_picker
    _fail(page, "tick", lambda route: route.abort("internetdisconnected"))
    _fail(page, "search", lambda route: route.abort("internetdisconnected"))
    _tick_chess_club(page)  # its request fails, so it stays ticked where it is, in the list
    expect(page.get_by_role("alert")).to_contain_text(
        "rostersync could not be reached. Check your internet connection, then try again.")
    with page.expect_event("requestfailed", lambda request: _is_picker_post(request, "search")):
        _search_rowing(page)  # fails too: the list holding the tick stays
    page.wait_for_function("() => !document.querySelector('.htmx-request')")
    expect(page.get_by_label("Search groups")).to_have_value("Rowing")
    expect(page.get_by_role("checkbox", name="Chess Club", exact=True)).to_be_checked()
    _saves_chess_club(page)
