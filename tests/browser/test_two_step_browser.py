"""Two-step verification in Chromium, by accessible names. An admin switches on "Admins must use
two-step verification" and is taken to set-up; sets up the authenticator app (the test reads
the key the page gives as text and computes the code with pyotp), signs out, signs in with
password and code, then with a recovery code. A passkey is added and used with Chromium's
virtual authenticator (DevTools WebAuthn), so the browser's WebAuthn API and py_webauthn talk
to each other; the relying party is the live server's origin (PUBLIC_URL), at localhost since
a relying party id cannot be an IP address. axe-core finds no WCAG 2.2 AA violation on the new
pages."""
import re
from datetime import datetime, timezone

import pyotp
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

pytestmark = pytest.mark.backends("postgresql")

WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE = Axe()


def assert_accessible(page, what):
    results = AXE.run(page, options={"runOnly": {"type": "tag", "values": WCAG_22_AA},
                                     "resultTypes": ["violations"]})
    assert results.violations_count == 0, f"{what} at {page.url}:\n{results.generate_report()}"


def password_step(page, base_url, email):
    page.goto(f"{base_url}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("password")
    page.get_by_role("button", name="Sign in", exact=True).click()


def sign_out(page):
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()


def test_the_policy_sends_an_admin_to_set_up_the_app_then_code_and_recovery_code_sign_in(
        app, admin, live_server, browser_page):
    page = browser_page
    password_step(page, live_server, admin.user.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    page.get_by_role("link", name="Two-step verification").click()
    assert_accessible(page, "the two-step policy page")
    page.get_by_label("Admins must use two-step verification").check()
    page.get_by_role("button", name="Save").click()

    # This admin has no second step: straight to set-up, and nothing else is reachable.
    expect(page.get_by_role("heading", name="Set up two-step verification")).to_be_visible()
    expect(page.get_by_text("requires admins to use two-step verification")).to_be_visible()
    assert_accessible(page, "the set-up page")
    page.get_by_role("link", name="rostersync", exact=True).click()  # home: still set-up
    expect(page.get_by_role("heading", name="Set up two-step verification")).to_be_visible()
    page.goto(f"{live_server}/o/{admin.org.id}/settings/users/")
    expect(page.get_by_role("heading", name="Set up two-step verification")).to_be_visible()

    page.get_by_role("button", name="Set up authenticator app").click()
    expect(page.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
    assert_accessible(page, "the authenticator app set-up")
    key = page.get_by_label("Can't scan? Enter this key").input_value().replace(" ", "")
    totp = pyotp.TOTP(key)
    page.get_by_label("Verification code").fill(totp.now())
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Save your recovery codes")).to_be_visible()
    codes = page.get_by_role("list", name="Your recovery codes").get_by_role(
        "listitem").all_inner_texts()
    assert len(codes) == 10
    assert_accessible(page, "the recovery codes")
    page.get_by_role("link", name="I have saved my codes: continue").click()
    expect(page.get_by_role("heading", name=admin.org.name)).to_be_visible()
    sign_out(page)

    password_step(page, live_server, admin.user.email)
    expect(page.get_by_role("heading", name="Two-step verification")).to_be_visible()
    assert_accessible(page, "the second step")
    page.get_by_label("Verification code").fill("000000" if totp.now() != "000000" else "111111")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("alert")).to_contain_text("That code is not right")
    assert_accessible(page, "the second step with a refused code")
    # The code used at set-up is spent: the next one, a step ahead, is within the drift.
    page.get_by_label("Verification code").fill(totp.at(datetime.now(timezone.utc),
                                                        counter_offset=1))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("link", name="Sign-in and security")).to_be_visible()
    page.get_by_role("link", name="Sign-in and security").click()
    expect(page.get_by_role("cell", name="Password and authenticator app").first).to_be_visible()
    sign_out(page)

    password_step(page, live_server, admin.user.email)
    page.get_by_role("link", name="Use a recovery code").click()
    assert_accessible(page, "use a recovery code")
    page.get_by_label("Recovery code").fill(codes[0])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("You signed in with a recovery code; 9 of your codes are left")).to_be_visible()


def test_a_passkey_added_and_used_with_chromiums_virtual_authenticator(
        app, admin, live_server, browser_page):
    base_url = live_server.replace("127.0.0.1", "localhost")
    app.config["PUBLIC_URL"] = base_url
    page = browser_page
    devtools = page.context.new_cdp_session(page)
    devtools.send("WebAuthn.enable")
    authenticator = devtools.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True,
        "automaticPresenceSimulation": True}})["authenticatorId"]

    password_step(page, base_url, admin.user.email)
    page.get_by_role("link", name="Sign-in and security").click()
    page.get_by_label("Name of the new passkey").fill("Office laptop")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_role("heading", name="Save your recovery codes")).to_be_visible()
    expect(page.get_by_text("Passkey “Office laptop” added. Two-step verification is on.")).to_be_visible()
    page.goto(f"{base_url}/account/security/")
    expect(page.get_by_text("Office laptop", exact=True)).to_be_visible()
    assert_accessible(page, "Sign-in and security with a passkey")
    sign_out(page)

    password_step(page, base_url, admin.user.email)
    expect(page.get_by_role("heading", name="Two-step verification")).to_be_visible()
    page.get_by_role("button", name="Use a passkey").click()
    expect(page.get_by_role("link", name="Sign-in and security")).to_be_visible()
    page.get_by_role("link", name="Sign-in and security").click()
    expect(page.get_by_role("cell", name="Password and passkey").first).to_be_visible()
    expect(page.get_by_text(re.compile("last used"))).to_be_visible()
    credential, = devtools.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})[
        "credentials"]
    assert credential["rpId"] == "localhost" and credential["signCount"] >= 1
