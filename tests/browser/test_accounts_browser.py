"""Getting in, in Chromium by accessible names: an invitation from Manage users to the school's
page; Forgot your password, after which the old password is refused and another browser is
signed out; Sign in with Microsoft as a synced member, refused once the sync suspended them.
Mail goes to a real SMTP server on loopback; the mail jobs run in this process."""
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.mail_helpers import bodies
from tests.microsoft_flow import demo, run_quick_jobs
from tests.sync_helpers import NORTHFIELD, connected_school, sync_in_process

pytestmark = pytest.mark.backends("postgresql")

NEWCOMER = "new.teacher@school.example"
CHOSEN, NEWER = "Kettle-Tulip-Harbour-Sky-7", "Lantern-Meadow-Copper-Fig-3"
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE = Axe()


@pytest.fixture
def extra_config(smtp_server):
    return smtp_server.config()


@pytest.fixture
def another_browser(chromium):
    """another_browser() -> a page in a browser context of its own (no shared cookies)."""
    contexts = []

    def open_page():
        context = chromium.new_context()
        context.set_default_timeout(20_000)
        contexts.append(context)
        return context.new_page()
    yield open_page
    for context in contexts:
        context.close()


def assert_accessible(page, what):
    results = AXE.run(page, options={"runOnly": {"type": "tag", "values": WCAG_22_AA},
                                     "resultTypes": ["violations"]})
    assert results.violations_count == 0, f"{what} at {page.url}:\n{results.generate_report()}"


def newest_link(app, smtp_server, count, live_server):
    """Sends the queued mail, then the link in mail number `count` (it points at PUBLIC_URL,
    which is the live server here)."""
    run_quick_jobs(app)
    text, _ = bodies(smtp_server.wait_for(count)[count - 1][1])
    return re.search(re.escape(live_server) + r"/\S+", text).group(0)


def choose_password(page, password):
    page.get_by_label("New password", exact=True).fill(password)
    page.get_by_label("New password again").fill(password)


def test_an_invitation_then_forgot_your_password_in_the_browser(
        app, admin, live_server, browser_page, another_browser, smtp_server):
    app.config["PUBLIC_URL"] = live_server
    page = browser_page
    sign_in(page, live_server, admin.user.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    page.get_by_role("link", name="Manage users").click()
    page.get_by_label("Email", exact=True).fill(NEWCOMER)
    page.get_by_label("Name", exact=True).fill("New Teacher")
    page.get_by_role("button", name="Add person").click()
    expect(page.get_by_text("We've emailed new.teacher@school.example an invitation")).to_be_visible()
    expect(page.get_by_role("cell", name=re.compile("^Invited"))).to_be_visible()
    expect(page.get_by_role("button", name=f"Resend invitation to {NEWCOMER}")).to_be_visible()
    assert_accessible(page, "manage users with an invitation")

    # The newcomer, in a browser of their own, opens the link from the email.
    newcomer = another_browser()
    newcomer.goto(newest_link(app, smtp_server, 1, live_server))
    expect(newcomer.get_by_role("heading", name="Set your password")).to_be_visible()
    assert_accessible(newcomer, "set your password")
    choose_password(newcomer, "short")
    newcomer.get_by_label("New password", exact=True).evaluate("e => e.removeAttribute('minlength')")
    newcomer.get_by_role("button", name="Set password").click()
    expect(newcomer.get_by_text("Use at least 12 characters.")).to_be_visible()
    choose_password(newcomer, CHOSEN)
    newcomer.get_by_role("button", name="Set password").click()
    expect(newcomer.get_by_text("Your password is set")).to_be_visible()
    expect(newcomer.get_by_label("Email")).to_have_value(NEWCOMER)
    newcomer.get_by_label("Password").fill(CHOSEN)
    newcomer.get_by_role("button", name="Sign in", exact=True).click()
    expect(newcomer.get_by_text(admin.org.name).first).to_be_visible()
    expect(newcomer.get_by_text(NEWCOMER)).to_be_visible()

    # Later, on another computer, they have forgotten it.
    elsewhere = another_browser()
    elsewhere.goto(f"{live_server}/login")
    elsewhere.get_by_role("link", name="Forgot your password?").click()
    elsewhere.get_by_label("Email").fill(NEWCOMER.upper())
    elsewhere.get_by_role("button", name="Email me a link").click()
    expect(elsewhere.get_by_role("heading", name="Check your email")).to_be_visible()
    elsewhere.goto(newest_link(app, smtp_server, 2, live_server))
    expect(elsewhere.get_by_role("heading", name="Choose a new password")).to_be_visible()
    choose_password(elsewhere, NEWER)
    elsewhere.get_by_role("button", name="Set new password").click()
    expect(elsewhere.get_by_text("Your new password is set")).to_be_visible()
    elsewhere.get_by_label("Password").fill(CHOSEN)
    elsewhere.get_by_role("button", name="Sign in", exact=True).click()
    expect(elsewhere.get_by_role("alert")).to_contain_text("don't match an active account")
    elsewhere.get_by_label("Password").fill(NEWER)
    elsewhere.get_by_role("button", name="Sign in", exact=True).click()
    expect(elsewhere.get_by_role("link", name="Sign-in and security")).to_be_visible()

    # The first browser was signed out by the reset, at its next click.
    newcomer.get_by_role("link", name="Sign-in and security").click()
    expect(newcomer.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()
    expect(newcomer.get_by_text("because your password was changed")).to_be_visible()

    elsewhere.get_by_role("link", name="Sign-in and security").click()
    expect(elsewhere.get_by_role("heading", name="Sign-in and security")).to_be_visible()
    expect(elsewhere.get_by_role("table", name="Last sign-ins")).to_contain_text("This session")
    assert_accessible(elsewhere, "sign-in and security")


def test_sign_in_with_microsoft_as_a_synced_member_until_the_sync_suspends_them(
        app, factory, client, microsoft, live_server, browser_page):
    school = connected_school(factory, client, microsoft)
    sync_in_process(school)
    page = browser_page
    page.goto(f"{live_server}/login")
    page.get_by_role("button", name="Sign in with Microsoft").click()
    expect(page.get_by_role("heading", name="Pick an account")).to_be_visible()
    page.get_by_role("button", name="Use another account").click()
    page.get_by_label("Email").fill("siobhan.obrien@oaklearning.example")
    page.get_by_label("Password").fill(demo.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(school.org.name).first).to_be_visible()
    expect(page.get_by_text("s.o'brien@oaklearning.example")).to_be_visible()

    microsoft.control.remove_member(NORTHFIELD, demo.OBRIEN_ID)
    assert sync_in_process(school).suspended == 1
    page.reload()
    expect(page.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()
    expect(page.get_by_text("no longer has access to any school")).to_be_visible()
    page.get_by_role("button", name="Sign in with Microsoft").click()
    page.get_by_role("button", name="siobhan.obrien@oaklearning.example").click()
    expect(page.get_by_role("heading", name="Your account has no access")).to_be_visible()
    assert_accessible(page, "Microsoft sign-in refused")
    page.get_by_role("link", name="Back to sign in").click()
    expect(page.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()
