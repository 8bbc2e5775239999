"""The admin's whole day in Chromium, by accessible names only: sign in, connect, choose the
group, Sync now, the people, Export CSV, a leaver suspended by the next sync, and Troubleshooting
after connecting the wrong Microsoft account through the browser's remembered-account cookie.

Against the app started as in production (`production_stack`): the Procfile's release, gunicorn
`web` and RQ `worker` processes with app.json's settings, a fresh PostgreSQL database, Redis,
and the Microsoft simulator over HTTPS. The school and its admin are created the way a newcomer
does it, with `flask --app wsgi org create` / `user create`.

Screenshots go to the test's temporary folder; with SCREENSHOT_DIR=docs/screenshots they
replace the README's.
"""
import os
import re
import urllib.parse
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.microsoft_flow import demo

ADMIN_PASSWORD = "Walk-the-day-1"


@pytest.fixture
def shoot(browser_page, tmp_path):
    folder = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    browser_page.set_viewport_size({"width": 1280, "height": 800})

    def take(name):
        browser_page.screenshot(path=str(folder / f"{name}.png"))
        assert (folder / f"{name}.png").stat().st_size > 5_000
    return take


def microsoft_sign_in(page, email):
    another = page.get_by_role("button", name="Use another account")
    another.or_(page.get_by_label("Password")).first.wait_for()
    if another.is_visible():  # the account picker; otherwise the sign-in form straight away
        another.click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(demo.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    # The tenant's administrator approves for everyone (Microsoft shows them this box), so the
    # school's other accounts are never stopped at "Need admin approval".
    page.get_by_label("Consent on behalf of your organization").check()
    page.get_by_role("button", name="Accept").click()


def remember_at_microsoft(page, sim, email):
    """Signs `email` in to the simulator outside rostersync; its cookie then remembers them."""
    query = urllib.parse.urlencode({"client_id": demo.CLIENT_ID, "response_type": "code",
                                    "scope": "openid User.Read", "prompt": "login", "state": "elsewhere",
                                    "redirect_uri": f"{sim.base_url}/"})
    page.goto(f"{sim.base_url}/organizations/oauth2/v2.0/authorize?{query}")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(demo.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    accept = page.get_by_role("button", name="Accept")
    home = page.get_by_role("heading", name="Microsoft simulator")
    accept.or_(home).first.wait_for()
    if accept.is_visible():  # not asked once the tenant's administrator approved for everyone
        accept.click()
    expect(home).to_be_visible()


def create_the_trust_and_its_admin(stack):
    """README, From zero to signed in, step 3: the demo tenant's sync account, admin of both
    schools of the trust (connecting needs the account in every school of the trust)."""
    flask = "flask --app wsgi"
    for school in ("Northfield Academy", "Southfield Primary"):
        stack.run(f'{flask} org create "{school}" --trust "Oak Learning Trust"')
    stack.run(f'{flask} user create {demo.ADMIN_UPN} --password {ADMIN_PASSWORD} --admin '
              '--org "Northfield Academy" --org "Southfield Primary" --name "IT Sync Admin"')


def sync_now_and_wait(page, outcome):
    page.get_by_role("button", name="Sync now").click()
    expect(page.get_by_text(outcome).first).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Sync complete").first).to_be_visible()
    # The Connection card's "Last run" follows the run too, without a reload.
    expect(page.get_by_role("region", name="Connection")).to_contain_text("Sync complete")


def test_the_admins_whole_day(production_stack, browser_page, microsoft, shoot, tmp_path):
    create_the_trust_and_its_admin(production_stack)
    page = browser_page
    sign_in(page, production_stack.base_url, demo.ADMIN_UPN, ADMIN_PASSWORD)
    session = [c for c in page.context.cookies() if c["name"] == "session"]
    assert session and session[0]["secure"], "production sets a Secure session cookie"

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    page.get_by_role("link", name="Manage user sync", exact=True).click()
    page.get_by_role("navigation", name="User sync").get_by_role(
        "link", name="Import settings", exact=True).click()
    expect(page.get_by_role("link", name="Microsoft")).to_have_attribute("aria-current", "page")
    import_settings = page.url
    shoot("1-import-settings")
    page.get_by_role("button", name="Connect with Microsoft").click()
    microsoft_sign_in(page, demo.ADMIN_UPN)

    search = page.get_by_label("Search groups")
    expect(search).to_be_visible(timeout=30_000)
    search.fill("oak trust everyone")
    expect(page.get_by_role("checkbox", name="Oak Trust Everyone", exact=True)).to_be_disabled()
    search.fill("northfield staff")
    page.get_by_role("checkbox", name="Northfield Staff", exact=True).check()
    expect(page.get_by_role("group", name="Chosen groups").get_by_role(
        "checkbox", name="Northfield Staff", exact=True)).to_be_checked()  # moved up at once
    shoot("2-group-picker")
    page.get_by_role("button", name="Save groups").click()
    expect(page.get_by_text("Syncing: Northfield Staff.", exact=False).first).to_be_visible()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    page.get_by_role("link", name="Manage user sync", exact=True).click()
    sync_now_and_wait(page, "27 added")
    people = page.get_by_role("region", name="Synced people")
    expect(people.get_by_text("Siobhán O'Brien")).to_be_visible()
    expect(people.get_by_text("<b>Ms</b> Script")).to_be_visible()  # shown as text, not markup
    shoot("3-manage-user-sync")

    with page.expect_download() as download:
        people.get_by_role("link", name="Export CSV").click()
    csv_path = tmp_path / "people.csv"
    download.value.save_as(csv_path)
    exported = csv_path.read_text(encoding="utf-8")
    assert "s.o'brien@oaklearning.example" in exported and exported.count("\n") == 28

    microsoft.control.remove_member(demo.NORTHFIELD_STAFF_GROUP_ID, demo.OBRIEN_ID)
    page.reload()
    sync_now_and_wait(page, "1 suspended, 0 reinstated")
    page.reload()
    people = page.get_by_role("region", name="Synced people")
    row = people.get_by_role("row", name=re.compile("Siobhán O'Brien"))
    expect(row.get_by_text("Suspended", exact=False).first).to_be_visible()
    shoot("4-leaver-suspended")

    # Jo signs in to Microsoft in this browser (say, to read mail), so the simulator's
    # remembered-account cookie now names Jo; a hurried Reconnect picks Jo from the picker.
    remember_at_microsoft(page, microsoft, demo.PERSONAL_UPN)
    page.goto(import_settings)
    page.get_by_role("button", name="Reconnect").click()
    page.get_by_role("button", name=demo.PERSONAL_UPN).click()  # approved for everyone: no consent page
    expect(page.get_by_text(
        f"You are signed in here as {demo.ADMIN_UPN}, but Microsoft connected {demo.PERSONAL_UPN}"
    )).to_be_visible()
    shoot("5-wrong-account")
    page.get_by_role("main").get_by_role("link", name="Troubleshooting").first.click()
    expect(page.get_by_role("heading", name="Troubleshooting", level=1)).to_be_visible()
    expect(page.get_by_text(
        "Your browser probably remembered another Microsoft account and used it")).to_be_visible()
    shoot("6-troubleshooting")

    syncs = [job for job in production_stack.jobs() if job["func"] == "jobs.sync.run_sync_job"]
    assert len(syncs) == 2 and all(job["status"] == "finished" for job in syncs), syncs
