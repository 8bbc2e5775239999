"""Authorization code flow with real MSAL over TLS, and the sign-in pages' behaviour."""
import base64
import json
import urllib.parse

import msal
import requests

from sim_helpers import (APP_SCOPES, REDIRECT_URI, Browser, Form, approve_for_organisation, msal_app,
                         sign_in_with_msal)
from microsoft_simulator import demo


def _claims(jwt):
    part = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def test_openid_configuration_has_msal_fields(sim):
    for tenant in ("organizations", "common", demo.TENANT_ID):
        config = requests.get(f"{sim.base_url}/{tenant}/v2.0/.well-known/openid-configuration").json()
        assert config["authorization_endpoint"] == f"{sim.base_url}/{tenant}/oauth2/v2.0/authorize"
        assert config["token_endpoint"] == f"{sim.base_url}/{tenant}/oauth2/v2.0/token"
        assert config["jwks_uri"].startswith(sim.base_url)
    assert config["issuer"] == f"{sim.base_url}/{demo.TENANT_ID}/v2.0"
    unknown = requests.get(f"{sim.base_url}/not-a-tenant/v2.0/.well-known/openid-configuration")
    assert unknown.status_code == 400 and "AADSTS90002" in unknown.json()["error_description"]


def test_full_msal_flow_returns_entra_shaped_tokens(sim, browser):
    app = msal_app(sim)
    flow = app.initiate_auth_code_flow(APP_SCOPES, redirect_uri=REDIRECT_URI)
    page = browser.open(flow["auth_uri"])
    assert "Microsoft simulator" in page.text
    assert {"Email", "Password"} <= set(page.labels)
    page = browser.sign_in(demo.ADMIN_UPN)
    assert "Permissions requested" in page.text and "GroupMember.Read.All" in page.text
    auth_response = browser.click("Accept")
    assert auth_response["state"] == flow["state"] and "code" in auth_response
    result = app.acquire_token_by_auth_code_flow(flow, auth_response)
    assert result["token_type"] == "Bearer" and result["expires_in"] == 3599
    assert result["scope"].split() == ["GroupMember.Read.All", "User.Read", "User.Read.All", "profile", "openid"]
    claims = result["id_token_claims"]
    assert claims["oid"] == demo.ADMIN_ID and claims["tid"] == demo.TENANT_ID
    assert claims["preferred_username"] == demo.ADMIN_UPN and claims["ver"] == "2.0"
    assert claims["aud"] == demo.CLIENT_ID and claims["iss"] == f"{sim.base_url}/{demo.TENANT_ID}/v2.0"
    assert {"iat", "nbf", "exp", "nonce", "sub", "name"} <= set(claims)
    account = app.get_accounts()[0]
    assert account["home_account_id"] == f"{demo.ADMIN_ID}.{demo.TENANT_ID}"
    assert account["username"] == demo.ADMIN_UPN
    assert _claims(result["access_token"])["scp"] == "GroupMember.Read.All User.Read User.Read.All"


def test_remembered_account_signs_in_silently_even_when_another_was_intended(sim, browser):
    approve_for_organisation(sim)
    sign_in_with_msal(sim, browser, account=demo.PERSONAL_UPN)
    app = msal_app(sim)
    flow = app.initiate_auth_code_flow(APP_SCOPES, redirect_uri=REDIRECT_URI)
    auth_response = browser.open(flow["auth_uri"])  # no page at all: the cookie decides
    assert isinstance(auth_response, dict) and "code" in auth_response
    result = app.acquire_token_by_auth_code_flow(flow, auth_response)
    assert result["id_token_claims"]["preferred_username"] == demo.PERSONAL_UPN
    cookie = next(c for c in browser.session.cookies if c.name == "sim_remembered")
    assert cookie.has_nonstandard_attr("HttpOnly")


def test_select_account_shows_picker_and_use_another_account(sim, browser):
    approve_for_organisation(sim)
    sign_in_with_msal(sim, browser, account=demo.PERSONAL_UPN)
    app = msal_app(sim)
    flow = app.initiate_auth_code_flow(APP_SCOPES, redirect_uri=REDIRECT_URI, prompt="select_account",
                                       login_hint=demo.ADMIN_UPN)
    page = browser.open(flow["auth_uri"])
    assert "Pick an account" in page.text
    page.button(demo.PERSONAL_UPN)
    page = browser.click("Use another account")
    assert page.forms[0]["inputs"]["login"] == demo.ADMIN_UPN  # login_hint pre-fills
    auth_response = browser.sign_in(demo.ADMIN_UPN)  # approved for everyone: no consent page
    result = app.acquire_token_by_auth_code_flow(flow, auth_response)
    assert result["id_token_claims"]["oid"] == demo.ADMIN_ID
    flow = app.initiate_auth_code_flow(APP_SCOPES, redirect_uri=REDIRECT_URI, prompt="select_account")
    browser.open(flow["auth_uri"])
    auth_response = browser.click(demo.PERSONAL_UPN)  # picking a signed-in account needs no password
    assert app.acquire_token_by_auth_code_flow(flow, auth_response)["id_token_claims"]["oid"] == demo.PERSONAL_ID


def test_prompt_login_forces_password_and_prompt_consent_forces_consent(sim, browser):
    sign_in_with_msal(sim, browser)
    app = msal_app(sim)
    flow = app.initiate_auth_code_flow(APP_SCOPES, redirect_uri=REDIRECT_URI, prompt="login")
    page = browser.open(flow["auth_uri"])
    assert "Password" in page.labels
    auth_response = browser.sign_in(demo.ADMIN_UPN)  # consent remembered: straight back
    assert "code" in auth_response
    flow = app.initiate_auth_code_flow(APP_SCOPES, redirect_uri=REDIRECT_URI, prompt="consent")
    page = browser.open(flow["auth_uri"])
    assert "Permissions requested" in page.text
    page.button("Accept"), page.button("Cancel")


def test_prompt_none(sim, browser):
    app = msal_app(sim)
    flow = app.initiate_auth_code_flow(APP_SCOPES, redirect_uri=REDIRECT_URI, prompt="none")
    response = browser.open(flow["auth_uri"])
    assert response["error"] == "login_required"
    assert response["error_description"].startswith("AADSTS50058:")
    assert response["state"] == flow["state"]
    sign_in_with_msal(sim, browser)
    flow = app.initiate_auth_code_flow(APP_SCOPES, redirect_uri=REDIRECT_URI, prompt="none")
    assert "code" in browser.open(flow["auth_uri"])


def test_cancel_consent_is_access_denied(sim, browser):
    app = msal_app(sim)
    flow = app.initiate_auth_code_flow(APP_SCOPES, redirect_uri=REDIRECT_URI)
    browser.open(flow["auth_uri"])
    browser.sign_in(demo.ADMIN_UPN)
    response = browser.click("Cancel")
    assert response["error"] == "access_denied" and response["error_subcode"] == "cancel"
    assert response["error_description"].startswith("AADSTS65004:")
    result = app.acquire_token_by_auth_code_flow(flow, response)
    assert result["error"] == "access_denied"


def test_bad_password_unknown_user_and_disabled_account(sim, browser):
    app = msal_app(sim)
    flow = app.initiate_auth_code_flow(APP_SCOPES, redirect_uri=REDIRECT_URI)
    browser.open(flow["auth_uri"])
    page = browser.sign_in(demo.ADMIN_UPN, "wrong")
    assert "Your account or password is incorrect." in page.text and "AADSTS50126" in page.text
    page = browser.sign_in("nobody@oaklearning.example")
    assert "AADSTS50034" in page.text
    page = browser.sign_in("dana.departed@oaklearning.example")
    assert "AADSTS50057" in page.text
    assert not any(c.name == "sim_remembered" for c in browser.session.cookies)


def _code_for(sim, browser, **params):
    base = {"client_id": demo.CLIENT_ID, "response_type": "code", "redirect_uri": REDIRECT_URI,
            "scope": "openid offline_access User.Read", "state": "s1"}
    base.update(params)
    outcome = browser.open(f"{sim.base_url}/organizations/oauth2/v2.0/authorize?" + urllib.parse.urlencode(base))
    if isinstance(outcome, Form):
        outcome = browser.sign_in(demo.ADMIN_UPN)
    if isinstance(outcome, Form):
        outcome = browser.click("Accept")
    return outcome["code"]


def _redeem(sim, code, **extra):
    form = {"client_id": demo.CLIENT_ID, "client_secret": demo.CLIENT_SECRET, "grant_type": "authorization_code",
            "code": code, "redirect_uri": REDIRECT_URI, "scope": "openid offline_access User.Read"}
    form.update(extra)
    return requests.post(f"{sim.base_url}/organizations/oauth2/v2.0/token", data=form)


def _assert_aad_error(response, status, error, code):
    body = response.json()
    assert response.status_code == status, body
    assert body["error"] == error and body["error_codes"] == [code]
    assert body["error_description"].startswith(f"AADSTS{code}:")
    assert {"timestamp", "trace_id", "correlation_id"} <= set(body)


def test_code_single_use_redirect_match_and_pkce(sim, browser):
    verifier = "v" * 50
    from microsoft_simulator.identity import code_challenge_for
    code = _code_for(sim, browser, code_challenge=code_challenge_for(verifier), code_challenge_method="S256")
    _assert_aad_error(_redeem(sim, code, code_verifier="x" * 50), 400, "invalid_grant", 50148)
    _assert_aad_error(_redeem(sim, code, code_verifier=verifier, redirect_uri="http://localhost:5000/other"),
                      400, "invalid_grant", 500112)
    assert _redeem(sim, code, code_verifier=verifier).status_code == 200
    _assert_aad_error(_redeem(sim, code, code_verifier=verifier), 400, "invalid_grant", 54005)


def test_client_authentication_errors(sim, browser):
    code = _code_for(sim, browser)
    _assert_aad_error(_redeem(sim, code, client_id="11111111-1111-1111-1111-111111111111"),
                      400, "unauthorized_client", 700016)
    _assert_aad_error(_redeem(sim, code, client_secret="nope"), 401, "invalid_client", 7000215)
    page = browser.open(f"{sim.base_url}/organizations/oauth2/v2.0/authorize?client_id={demo.CLIENT_ID}"
                        "&response_type=code&scope=openid&redirect_uri=https://evil.example/cb")
    assert "AADSTS50011" in page.text and browser.last_response.status_code == 400


def test_form_post_response_mode(sim):
    browser = Browser(sim)
    code_page = browser.open(f"{sim.base_url}/organizations/oauth2/v2.0/authorize?" + urllib.parse.urlencode({
        "client_id": demo.CLIENT_ID, "response_type": "code", "redirect_uri": REDIRECT_URI,
        "scope": "openid User.Read", "response_mode": "form_post", "state": "xyz"}))
    browser.sign_in(demo.ADMIN_UPN)
    page = browser.click("Accept")
    assert page.forms[0]["action"] == REDIRECT_URI and page.forms[0]["inputs"]["state"] == "xyz"
    assert code_page is not None


def test_logout_forgets_the_remembered_account(sim, browser):
    approve_for_organisation(sim)
    sign_in_with_msal(sim, browser, account=demo.PERSONAL_UPN)
    back = browser.open(f"{sim.base_url}/organizations/oauth2/v2.0/logout?post_logout_redirect_uri="
                        + urllib.parse.quote(REDIRECT_URI))
    assert back == {}
    assert not any(c.name == "sim_remembered" for c in browser.session.cookies)
    flow = msal_app(sim).initiate_auth_code_flow(APP_SCOPES, redirect_uri=REDIRECT_URI)
    assert "Password" in browser.open(flow["auth_uri"]).labels


def test_home_page_says_simulator(sim):
    assert "Microsoft simulator" in requests.get(sim.base_url + "/").text


def test_a_sign_in_asking_only_openid_profile_email_gets_an_id_token_as_entra_documents(
        sim, browser):
    """What Sign in with Microsoft asks for: no consent page (no Graph permission), no refresh
    token, and the ID token claims each scope brings: profile name, preferred_username and oid;
    email the address; tid and the nonce always."""
    app = msal.ConfidentialClientApplication(
        sim.env["MICROSOFT_CLIENT_ID"], client_credential=sim.env["MICROSOFT_CLIENT_SECRET"],
        authority=sim.env["MICROSOFT_AUTHORITY"], instance_discovery=False,
        exclude_scopes=["offline_access"])
    flow = app.initiate_auth_code_flow(["email"], redirect_uri=REDIRECT_URI)
    assert set(urllib.parse.parse_qs(urllib.parse.urlsplit(flow["auth_uri"]).query)["scope"][0]
               .split()) == {"openid", "profile", "email"}
    browser.open(flow["auth_uri"])
    outcome = browser.sign_in("siobhan.obrien@oaklearning.example")
    assert isinstance(outcome, dict), browser.page.text  # straight back: nothing to consent to
    result = app.acquire_token_by_auth_code_flow(flow, outcome)
    assert "refresh_token" not in result
    claims = result["id_token_claims"]
    assert claims["oid"] == demo.OBRIEN_ID and claims["tid"] == demo.TENANT_ID
    assert claims["preferred_username"] == "siobhan.obrien@oaklearning.example"
    assert claims["email"] == "s.o'brien@oaklearning.example" and claims["name"] == "Siobhán O'Brien"
    assert claims["nonce"] and claims["aud"] == demo.CLIENT_ID


def test_without_the_email_and_profile_scopes_the_id_token_has_no_email_name_or_oid(sim, browser):
    code = _code_for(sim, browser, scope="openid User.Read")
    body = _redeem(sim, code, scope="openid User.Read").json()
    claims = _claims(body["id_token"])
    assert claims["tid"] == demo.TENANT_ID and claims["sub"]
    assert not {"email", "name", "preferred_username", "oid"} & set(claims)


def test_a_disabled_or_deleted_account_cannot_sign_in(sim, browser):
    sim.control.update_user(demo.OBRIEN_ID, accountEnabled=False)
    app = msal_app(sim)
    browser.open(app.initiate_auth_code_flow(["email"], redirect_uri=REDIRECT_URI)["auth_uri"])
    assert "AADSTS50057" in browser.sign_in("siobhan.obrien@oaklearning.example").text
    sim.control.delete_user(demo.OBRIEN_ID)
    assert "AADSTS50034" in browser.sign_in("siobhan.obrien@oaklearning.example").text
