"""Refresh tokens through MSAL's acquire_token_silent, rotation, revocation, expiry; admin consent."""
import urllib.parse

import requests

from sim_helpers import APP_SCOPES, REDIRECT_URI, approve_for_organisation, msal_app, sign_in_with_msal
from microsoft_simulator import demo


def _refresh(sim, refresh_token, scope="openid offline_access User.Read"):
    return requests.post(f"{sim.base_url}/organizations/oauth2/v2.0/token", data={
        "client_id": demo.CLIENT_ID, "client_secret": demo.CLIENT_SECRET, "grant_type": "refresh_token",
        "refresh_token": refresh_token, "scope": scope})


def _assert_unauthorized_client(response, code, words):
    body = response.json()
    assert response.status_code == 400 and body["error"] == "unauthorized_client"
    assert body["error_codes"] == [code]
    assert body["error_description"].startswith(f"AADSTS{code}: {words}")


def test_acquire_token_silent_refreshes_and_rotates(sim, browser):
    app, first = sign_in_with_msal(sim, browser)
    account = app.get_accounts()[0]
    cached = app.acquire_token_silent(APP_SCOPES, account=account)
    assert cached["access_token"] == first["access_token"]  # served from MSAL's cache
    refreshed = app.acquire_token_silent(APP_SCOPES, account=account, force_refresh=True)
    assert "access_token" in refreshed, refreshed
    assert refreshed["access_token"] != first["access_token"]
    assert refreshed["refresh_token"] != first["refresh_token"]  # a new refresh token each time
    assert refreshed["scope"].split()[:3] == ["GroupMember.Read.All", "User.Read", "User.Read.All"]


def test_short_token_lifetime_makes_msal_refresh(sim, browser):
    sim.control.set_tenant(token_lifetime=1)
    app, first = sign_in_with_msal(sim, browser)
    assert first["expires_in"] == 1
    again = app.acquire_token_silent(APP_SCOPES, account=app.get_accounts()[0])
    assert again["access_token"] != first["access_token"]
    assert sim.control.stats()["counters"]["tokens_issued"] == 2


def test_revoked_refresh_token_is_invalid_grant_50173(sim, browser):
    app, first = sign_in_with_msal(sim, browser)
    assert sim.control.revoke_refresh_tokens(demo.ADMIN_UPN) == 1
    response = _refresh(sim, first["refresh_token"])
    body = response.json()
    assert response.status_code == 400 and body["error"] == "invalid_grant"
    assert body["error_codes"] == [50173] and body["error_description"].startswith("AADSTS50173:")
    result = app.acquire_token_silent_with_error(APP_SCOPES, account=app.get_accounts()[0], force_refresh=True)
    assert result["error"] == "invalid_grant" and 50173 in result["error_codes"]


def test_expired_refresh_token_is_700082(sim, browser):
    _, first = sign_in_with_msal(sim, browser)
    sim.control.expire_refresh_tokens(demo.ADMIN_ID)
    body = _refresh(sim, first["refresh_token"]).json()
    assert body["error"] == "invalid_grant" and body["error_codes"] == [700082]


def test_disabled_user_cannot_refresh(sim, browser):
    approve_for_organisation(sim)
    _, first = sign_in_with_msal(sim, browser, account=demo.PERSONAL_UPN)
    sim.control.update_user(demo.PERSONAL_ID, accountEnabled=False)
    assert _refresh(sim, first["refresh_token"]).json()["error_codes"] == [50057]


def test_admin_consent_is_required_by_default_and_blocks_non_admin_until_granted(sim, browser):
    app = msal_app(sim)
    flow = app.initiate_auth_code_flow(APP_SCOPES, redirect_uri=REDIRECT_URI)
    browser.open(flow["auth_uri"])
    page = browser.sign_in(demo.PERSONAL_UPN)
    assert "Need admin approval" in page.text
    response = browser.click("Return to the application without granting consent")
    assert response["error"] == "access_denied"
    assert response["error_description"].startswith("AADSTS90094:")
    # prompt=none with the remembered non-admin: consent_required
    flow = app.initiate_auth_code_flow(APP_SCOPES, redirect_uri=REDIRECT_URI, prompt="none")
    assert browser.open(flow["auth_uri"])["error"] == "consent_required"
    # the admin grants tenant-wide through the adminconsent endpoint
    admin_browser = type(browser)(sim)
    url = f"{sim.base_url}/organizations/v2.0/adminconsent?" + urllib.parse.urlencode(
        {"client_id": demo.CLIENT_ID, "redirect_uri": REDIRECT_URI, "state": "admin-1"})
    page = admin_browser.open(url)
    page = admin_browser.sign_in(demo.ADMIN_UPN)
    assert "for your organisation" in page.text
    granted = admin_browser.click("Accept")
    assert granted == {"admin_consent": "True", "tenant": demo.TENANT_ID, "state": "admin-1",
                       "scope": granted["scope"]}  # no error: the only shape that means approved
    # now the non-admin gets through (user consent for the remaining scopes is not needed)
    flow = app.initiate_auth_code_flow(APP_SCOPES, redirect_uri=REDIRECT_URI)
    outcome = browser.open(flow["auth_uri"])
    if not isinstance(outcome, dict):
        outcome = browser.click("Accept")
    assert app.acquire_token_by_auth_code_flow(flow, outcome)["id_token_claims"]["oid"] == demo.PERSONAL_ID


def test_adminconsent_by_non_admin_is_refused(sim, browser):
    url = f"{sim.base_url}/organizations/v2.0/adminconsent?" + urllib.parse.urlencode(
        {"client_id": demo.CLIENT_ID, "redirect_uri": REDIRECT_URI, "state": "s"})
    browser.open(url)
    page = browser.sign_in(demo.PERSONAL_UPN)
    assert "Need admin approval" in page.text  # told to ask an administrator, on a page
    response = browser.click("Return to the application without granting consent")
    assert response["admin_consent"] == "True" and "tenant" not in response
    assert response["error"] == "access_denied" and "AADSTS90094" in response["error_description"]
    assert response["state"] == "s"


def test_adminconsent_declined_comes_back_with_admin_consent_true_and_an_error(sim, browser):
    """"Admin consent on the Microsoft identity platform", error response: admin_consent=True
    on failure too, with error=consent_required and AADSTS65004, and no tenant."""
    url = f"{sim.base_url}/organizations/v2.0/adminconsent?" + urllib.parse.urlencode(
        {"client_id": demo.CLIENT_ID, "redirect_uri": REDIRECT_URI, "state": "s"})
    browser.open(url)
    browser.sign_in(demo.ADMIN_UPN)
    response = browser.click("Cancel")
    assert (response["admin_consent"], response["error"], response["state"]) == (
        "True", "consent_required", "s")
    assert response["error_description"].startswith(
        "AADSTS65004: The resource owner or authorization server denied the request.")
    assert "tenant" not in response


def test_a_non_admin_can_switch_to_an_admin_account_on_the_approval_page(sim, browser):
    app = msal_app(sim)
    flow = app.initiate_auth_code_flow(APP_SCOPES, redirect_uri=REDIRECT_URI)
    browser.open(flow["auth_uri"])
    assert "Need admin approval" in browser.sign_in(demo.PERSONAL_UPN).text
    page = browser.click("Sign in with that account")
    assert "Password" in page.labels
    browser.sign_in(demo.ADMIN_UPN)
    result = app.acquire_token_by_auth_code_flow(flow, browser.click("Accept"))
    assert result["id_token_claims"]["oid"] == demo.ADMIN_ID


def test_admin_can_consent_for_the_organisation_on_the_consent_page(sim, browser):
    app = msal_app(sim)
    flow = app.initiate_auth_code_flow(APP_SCOPES, redirect_uri=REDIRECT_URI)
    browser.open(flow["auth_uri"])
    page = browser.sign_in(demo.ADMIN_UPN)
    assert "Consent on behalf of your organization" in page.labels
    browser.click("Accept", **{"Consent on behalf of your organization": "1"})
    other = type(browser)(sim)
    flow = app.initiate_auth_code_flow(APP_SCOPES, redirect_uri=REDIRECT_URI)
    other.open(flow["auth_uri"])
    response = other.sign_in(demo.PERSONAL_UPN)  # no approval page, no consent page
    assert "code" in response


def test_removing_the_app_from_the_tenant_refuses_its_refresh_tokens_until_an_admin_consents(
        sim, browser):
    app, first = sign_in_with_msal(sim, browser)
    sim.control.set_tenant(remove_app=True)  # Enterprise applications › the app › Delete
    _assert_unauthorized_client(_refresh(sim, first["refresh_token"]), 700016,
                                f"Application with identifier '{demo.CLIENT_ID}' was not found")
    result = app.acquire_token_silent_with_error(APP_SCOPES, account=app.get_accounts()[0], force_refresh=True)
    assert result["error"] == "unauthorized_client" and 700016 in result["error_codes"]
    flow = app.initiate_auth_code_flow(APP_SCOPES, redirect_uri=REDIRECT_URI)
    other = type(browser)(sim)
    other.open(flow["auth_uri"])
    page = other.sign_in(demo.ADMIN_UPN)
    assert "Permissions requested" in page.text  # its consents went with it
    second = app.acquire_token_by_auth_code_flow(flow, other.click("Accept"))
    assert "access_token" in second, second  # consenting added the app back
    assert "access_token" in _refresh(sim, second["refresh_token"]).json()


def test_a_disabled_app_is_refused_7000112_until_the_tenant_enables_it_again(sim, browser):
    app, first = sign_in_with_msal(sim, browser)
    sim.control.set_tenant(app_enabled=False)  # Properties › Enabled for users to sign-in: No
    _assert_unauthorized_client(_refresh(sim, first["refresh_token"]), 7000112,
                                f"Application '{demo.CLIENT_ID}'({demo.CLIENT_NAME}) is disabled.")
    me = requests.get(f"{sim.env['MICROSOFT_GRAPH_URL']}/me",
                      headers={"Authorization": f"Bearer {first['access_token']}"})
    assert me.status_code == 200  # a token issued before stays valid until it expires
    flow = app.initiate_auth_code_flow(APP_SCOPES, redirect_uri=REDIRECT_URI)
    page = type(browser)(sim).open(flow["auth_uri"])  # signing in again does not get round it
    assert "AADSTS7000112" in page.text and "is disabled" in page.text
    sim.control.set_tenant(app_enabled=True)
    assert "access_token" in _refresh(sim, first["refresh_token"]).json()
