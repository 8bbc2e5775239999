"""A school admin's first hour, in Chromium at a laptop width (1280x900): long input, Sync now
where the group is saved, destructive buttons that ask first, plain words, state kept in the
address, the group picker's current group and keyboard focus on the progress. Every page also
passes axe-core's WCAG 2.2 AA rules (axe.min.js as shipped inside the axe-playwright-python
package; no network), error pages included. At a tablet width (768x1024) the pages whose layout
narrows (the tables, long input) are walked again: the rest lay out the same.

The app is the test app served for real (`live_server`), a real RQ worker where a sync runs, and
the Microsoft simulator over HTTPS; the trust is connected through real MSAL first.
"""
import re
from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.microsoft_flow import FAST_WORKER_ENV, demo, run_quick_jobs
from tests.sync_helpers import NORTHFIELD, people, sync_in_process
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.microsoft.connect import FLOW_TTL_SECONDS
from webapp.microsoft.services import record_attempt_start
from webapp.user_sync.engine import lifecycle
from webapp.user_sync.engine.run import run_sync

pytestmark = pytest.mark.backends("postgresql")

WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE = Axe()
VIEWPORTS = {"laptop": {"width": 1280, "height": 900}, "tablet": {"width": 768, "height": 1024}}


@pytest.fixture
def extra_config(request):
    if "private_redis" in request.fixturenames:
        return {"REDIS_URL": request.getfixturevalue("private_redis").url}
    return {}


@pytest.fixture
def page(request, browser_page):
    """At the laptop width; a test parametrised with `viewport` gets that width instead."""
    name = request.getfixturevalue("viewport") if "viewport" in request.fixturenames else "laptop"
    browser_page.set_viewport_size(VIEWPORTS[name])
    return browser_page


both_widths = pytest.mark.parametrize("viewport", list(VIEWPORTS))


@pytest.fixture
def trust(app, school):
    """Oak Learning Trust connected (real MSAL), Northfield Staff chosen, the groups fetched."""
    run_quick_jobs(app)
    return school


@pytest.fixture
def signed_in(trust, page, live_server):
    sign_in(page, live_server, trust.admin.email)
    return trust


def urls(base, school):
    org = f"{base}/o/{school.org.id}"
    return {"dashboard": f"{org}/", "settings": f"{org}/settings", "users": f"{org}/settings/users/",
            "sync": f"{org}/settings/user-sync/", "history": f"{org}/settings/user-sync/history",
            "why": f"{org}/settings/user-sync/why", "import": f"{org}/settings/user-sync/import/microsoft",
            "groups": f"{org}/settings/user-sync/import/microsoft/groups",
            "troubleshooting": f"{org}/settings/user-sync/troubleshooting/"}


def assert_accessible(page, what):
    results = AXE.run(page, options={"runOnly": {"type": "tag", "values": WCAG_22_AA},
                                     "resultTypes": ["violations"]})
    assert results.violations_count == 0, f"{what} at {page.url}:\n{results.generate_report()}"


def assert_fits_the_viewport(page, what):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], (
        f"{what} is {width} px wide in a {page.viewport_size['width']} px window")


def visible_text(page):
    return " ".join(page.locator("main").inner_text().split())


# ----- every page, axe-core WCAG 2.2 AA -----

NARROWS = {"manage user sync", "manage user sync, sorted and searched", "sync history",
           "run detail", "manage users", "a search that is too long",
           "a synced person"}  # tables that reflow, and where a row's actions went


@both_widths
def test_every_page_has_no_wcag_22_aa_violations(app, signed_in, page, live_server, viewport):
    run = sync_in_process(signed_in)
    to = urls(live_server, signed_in)
    pages = [("dashboard", to["dashboard"]), ("settings", to["settings"]),
             ("import settings", to["import"]), ("group picker", to["groups"]),
             ("manage user sync", to["sync"]), ("manage user sync, sorted and searched",
                                               to["sync"] + "?q=a&status=active&sort=email&dir=desc"),
             ("sync history", to["history"]),
             ("run detail", f"{to['sync']}runs/{run.id}"),
             ("why", to["why"] + "?q=Jo+Bloggs"), ("manage users", to["users"]),
             ("a synced person", f"{to['sync']}people/{people(signed_in.org)[0].id}"),
             ("every time zone", f"{to['sync']}schedule/time-zones"),
             ("troubleshooting", to["troubleshooting"]),
             ("disconnect question", to["import"] + "/disconnect"),
             ("a search that is too long", to["sync"] + "?q=" + "x" * 1500),
             ("page not found", f"{live_server}/o/{signed_in.org.id}/nowhere")]
    if viewport != "laptop":
        pages = [(what, url) for what, url in pages if what in NARROWS]
    for what, url in pages:
        page.goto(url)
        expect(page.locator("h1")).to_be_visible()
        assert_accessible(page, what)
        assert_fits_the_viewport(page, what)
    page.goto(to["users"] + "?q=brien")
    page.get_by_role("link", name=re.compile("^Remove")).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Remove")
    assert_accessible(page, "remove question")
    # A sync waiting for a worker (its progress polls), then one stopped for review.
    queued, _ = lifecycle.start_run(signed_in.org, signed_in.admin, "sync")
    page.goto(to["sync"])
    expect(page.locator("#sync-live")).to_contain_text("Waiting for a worker")
    assert_accessible(page, "manage user sync with a sync waiting for a worker")
    run_sync(queued.id)
    removed = 0  # ten direct members (a nested group's members cannot be removed from it)
    for row in people(signed_in.org):
        if removed < 10:
            removed += bool(signed_in.sim.control.remove_member(NORTHFIELD, row.microsoft_id))
    assert removed == 10
    assert sync_in_process(signed_in).status == "needs_review"
    page.goto(to["sync"])
    expect(page.get_by_role("button", name="Apply removals")).to_be_visible()
    assert_accessible(page, "manage user sync with a sync to review")
    assert_fits_the_viewport(page, "manage user sync with a sync to review")
    page.get_by_role("button", name="Apply removals").click()  # asks first, naming the count
    expect(page.get_by_role("heading", name="Suspend 10 people?")).to_be_visible()
    assert_accessible(page, "apply removals, asking first")
    assert_fits_the_viewport(page, "apply removals, asking first")
    if viewport != "laptop":
        return
    # A form whose CSRF token went stale gets the "Please try again" page.
    page.goto(to["settings"])
    page.locator("form[action='/logout'] input[name=csrf_token]").evaluate("e => e.value = 'stale'")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Please try again")).to_be_visible()
    assert_accessible(page, "stale form page")
    page.context.clear_cookies()
    page.goto(f"{live_server}/login")
    assert_accessible(page, "sign-in page")


def test_the_unexpected_error_page_has_no_wcag_22_aa_violations(failing_view, admin, page,
                                                                 live_server):
    sign_in(page, live_server, admin.user.email)
    assert page.goto(f"{live_server}{failing_view}").status == 500
    expect(page.get_by_role("heading", name="Something went wrong")).to_be_visible()
    assert_accessible(page, "unexpected error page")


def test_the_service_unavailable_page_has_no_wcag_22_aa_violations(app, admin, page, live_server,
                                                                    private_redis):
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill(admin.user.email)
    page.get_by_label("Password").fill("password")
    private_redis.stop()
    try:
        page.get_by_role("button", name="Sign in", exact=True).click()
        expect(page.get_by_role("heading", name="Temporarily unavailable")).to_be_visible()
        assert_accessible(page, "service unavailable page")
    finally:
        private_redis.start()


# ----- 4. long input -----

@both_widths
def test_long_input_is_limited_refused_plainly_and_never_widens_the_page(signed_in, page,
                                                                         live_server, viewport):
    sync_in_process(signed_in)
    to = urls(live_server, signed_in)
    page.goto(to["sync"])
    search = page.get_by_label("Search synced people")
    search.fill("x" * 1500)
    assert len(search.input_value()) == 200  # maxlength
    expect(page).to_have_url(re.compile(r"q=x{200}$"))
    assert_fits_the_viewport(page, "Manage user sync after typing 1,500 characters")

    for name in ("sync", "users", "groups", "why"):
        page.goto(to[name] + "?q=" + "y" * 1500)
        expect(page.get_by_role("alert").filter(has_text="That search is too long")).to_be_visible()
        assert "y" * 201 not in visible_text(page)  # never echoed
        assert_fits_the_viewport(page, f"{name} with a 1,500-character search in the address")
    page.goto(to["users"] + "?q=" + "z" * 5000)
    expect(page.get_by_role("heading", name="Manage users")).to_be_visible()
    expect(page.get_by_text("That search is too long")).to_be_visible()

    # A too-long search that reaches the server over HTMX replaces the results, never sits on them.
    page.goto(to["sync"])
    table = page.get_by_role("table", name=re.compile("Synced people"))
    expect(table).to_be_visible()
    page.locator("#synced-search").evaluate(
        "e => { e.value = 'w'.repeat(5000); e.dispatchEvent(new Event('input', {bubbles: true})); }")
    expect(page.get_by_text("That search is too long")).to_be_visible()
    expect(table).to_have_count(0)
    assert_fits_the_viewport(page, "Manage user sync after a 5,000-character HTMX search")


# ----- 5 and 12. Save groups, Sync now right there, focus stays with the progress -----

def test_save_group_offers_sync_now_and_focus_stays_with_the_progress(app, signed_in, page,
                                                                      live_server, microsoft,
                                                                      start_worker):
    start_worker(FAST_WORKER_ENV)
    to = urls(live_server, signed_in)
    page.goto(to["groups"])
    current = page.get_by_role("group", name="Chosen groups").get_by_role(
        "checkbox", name="Northfield Staff", exact=True)
    expect(current).to_be_checked()  # the current group, though past the first 50 A-Z
    page.get_by_label("Search groups").fill("staff")
    expect(current).to_be_checked()
    page.get_by_role("button", name="Save groups").click()
    expect(page.get_by_text("Northfield Academy saved its groups. Syncing: Northfield Staff.",
                            exact=False)).to_be_visible()
    assert page.url == to["import"]

    microsoft.control.set_faults(latency_ms=1500)  # a sync slow enough to watch
    page.get_by_role("main").get_by_role("button", name="Sync now").click()
    expect(page).to_have_url(to["sync"] + "#sync-live")
    expect(page.locator("#sync-live")).to_be_focused()
    expect(page.locator("#sync-live")).to_contain_text("Sync complete", timeout=60_000)
    expect(page.locator("#sync-live")).to_be_focused()

    page.reload()
    sync_now = page.get_by_role("button", name="Sync now")
    sync_now.focus()
    page.keyboard.press("Enter")
    live = page.locator("#sync-live")
    expect(live).to_be_focused()
    assert live.get_attribute("aria-live") == "polite" and live.get_attribute("role") == "status"
    expect(live).to_contain_text(re.compile("Syncing|Waiting for a worker"))
    words = " ".join(live.inner_text().split())
    assert "Waiting for a worker — Waiting for a worker" not in words and "Starting" not in words
    expect(live).to_contain_text("Sync complete", timeout=60_000)
    expect(live).to_be_focused()  # through every swap of the progress inside it


# ----- 6. destructive buttons ask first -----

def test_disconnect_and_remove_ask_first_and_name_the_consequence(signed_in, page, live_server):
    sync_in_process(signed_in)
    to = urls(live_server, signed_in)
    page.goto(to["import"])
    page.get_by_role("link", name="Disconnect…").click()
    expect(page.get_by_role("heading", name="Disconnect every school from Microsoft?")).to_be_visible()
    main = page.get_by_role("main")
    expect(main.get_by_role("listitem").filter(has_text="Northfield Academy")).to_be_visible()
    expect(main.get_by_role("listitem").filter(has_text="Southfield Primary")).to_be_visible()
    page.get_by_role("link", name="Cancel, stay connected").click()
    expect(page.get_by_text(re.compile(r"Connected\s+as"))).to_be_visible()

    page.goto(to["users"] + "?q=brien")
    page.get_by_role("link", name=re.compile("^Remove")).first.click()
    expect(page.get_by_text("The next sync adds Siobhán O'Brien back.")).to_be_visible()
    page.get_by_role("button", name="Exclude from sync").click()
    expect(page.get_by_text("is excluded from sync, so the next sync will not add them back")).to_be_visible()
    page.get_by_role("button", name="Remove Siobhán O'Brien").click()
    expect(page.get_by_text("Removed Siobhán O'Brien from Northfield Academy.")).to_be_visible()


# ----- 7. plain words -----

def test_plain_words_for_workers_schools_attempts_and_the_tenant(app, signed_in, page, live_server,
                                                                start_worker):
    attempt = record_attempt_start(signed_in.org, signed_in.admin)
    attempt.started_at = utcnow() - timedelta(seconds=FLOW_TTL_SECONDS + 60)
    db.session.commit()
    start_worker()
    to = urls(live_server, signed_in)
    page.goto(to["troubleshooting"])
    expect(page.get_by_text("is a member of both schools.")).to_be_visible()
    expect(page.get_by_role("table").get_by_text("Abandoned (not finished)")).to_be_visible()
    for _ in range(30):  # the worker registers within a few seconds
        if "1 worker listening." in visible_text(page):
            break
        page.wait_for_timeout(1000)
        page.reload()
    assert "1 worker listening." in visible_text(page) and "(s)" not in visible_text(page)
    page.goto(to["sync"])
    card = page.get_by_role("region", name="Connection")
    expect(card).to_contain_text(f"{demo.TENANT_NAME} (tenant ID {demo.TENANT_ID})")


# ----- 8. state in the address -----

def test_search_filter_sort_and_page_live_in_the_address(signed_in, page, live_server):
    sync_in_process(signed_in)
    to = urls(live_server, signed_in)
    page.goto(to["sync"])
    people = page.get_by_role("region", name="Synced people")
    page.get_by_label("Search synced people").fill("o")
    expect(page).to_have_url(re.compile(r"\?q=o$"))
    page.get_by_label("Status").select_option("active")
    expect(page).to_have_url(re.compile(r"\?q=o&status=active$"))
    people.get_by_role("link", name=re.compile("^Email")).click()
    expect(page).to_have_url(re.compile(r"sort=email"))
    email_header = people.get_by_role("columnheader", name=re.compile("^Email"))
    expect(email_header).to_have_attribute("aria-sort", "ascending")
    first_ascending = people.get_by_role("row").nth(1).inner_text()
    people.get_by_role("link", name=re.compile("^Email")).click()
    expect(page).to_have_url(re.compile(r"dir=desc"))
    expect(email_header).to_have_attribute("aria-sort", "descending")
    assert people.get_by_role("row").nth(1).inner_text() != first_ascending

    page.reload()  # Reload keeps it all
    expect(page.get_by_label("Search synced people")).to_have_value("o")
    expect(page.get_by_label("Status")).to_have_value("active")
    expect(people.get_by_role("columnheader", name=re.compile("^Email"))).to_have_attribute(
        "aria-sort", "descending")
    page.go_back()  # Back returns to the ascending sort
    expect(page).not_to_have_url(re.compile(r"dir=desc"))
    expect(people.get_by_role("columnheader", name=re.compile("^Email"))).to_have_attribute(
        "aria-sort", "ascending")
    page.go_back()
    expect(page).not_to_have_url(re.compile(r"sort=email"))
    expect(page.get_by_label("Status")).to_have_value("active")

    page.get_by_label("Organisation").select_option(label="Southfield Primary")
    expect(page).to_have_url(f"{live_server}/o/{signed_in.oak.south.id}/settings/user-sync/")
    expect(page.get_by_role("heading", name="Manage user sync")).to_be_visible()
