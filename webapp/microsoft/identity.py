"""The one module that talks to MSAL: building the client, the auth-code flow, token caches.

Nothing here needs a Flask request (except callback_url, which names this app's address):
web routes, RQ jobs and tests call the same functions. Every token for Graph comes from
`access_token_for(connection_id)`; connect.py judges what a sign-in returned.
"""
import warnings
from contextlib import contextmanager
from urllib.parse import urlencode, urlsplit

import msal
import requests
from flask import current_app, url_for
from msal.exceptions import MsalServiceError

from webapp.extensions import db
from webapp.microsoft import app_credentials, tokens
from webapp.microsoft.models import CONNECTED, RECONNECT_NEEDED, MicrosoftConnection
from webapp.microsoft.refusals import refused_sign_in
from webapp.redis_conn import get_redis, redis_key

# Delegated Graph permissions. GroupMember.Read.All and User.Read.All need admin consent.
SCOPES = ["User.Read", "GroupMember.Read.All", "User.Read.All"]
# Sign in with Microsoft: with the openid and profile MSAL adds, "openid profile email".
SIGN_IN_SCOPES = ["email"]
MICROSOFT_CLOUD_HOSTS = {
    "login.microsoftonline.com", "login.microsoft.com", "login.windows.net", "sts.windows.net",
    "login.microsoftonline.us", "login.chinacloudapi.cn", "login.partner.microsoftonline.cn",
    "login.microsoftonline.de",
}
# The answer comes back as a query string on purpose: the session cookie is SameSite=Lax, so
# a cross-site form_post from Microsoft would arrive without it. MSAL warns on every flow.
FORM_POST_ADVICE = r"response_mode='form_post' is recommended"
warnings.filterwarnings("ignore", message=FORM_POST_ADVICE, category=UserWarning)
REFRESH_FAILURES = {"invalid_grant", "interaction_required", "consent_required", "login_required"}
# An invalid_grant that is not about the grant: Entra throttles a user's token requests with
# AADSTS50196 (MSAL's "Client and server throttling", Server throttling), so it passes.
THROTTLED_CODES = {50196}
# unauthorized_client AADSTS700016, "The application wasn't found in the directory/tenant"
# (Microsoft Entra authentication and authorization error codes): on a refresh, the school's
# tenant no longer holds the app, e.g. its enterprise application was deleted. Consenting again
# creates it anew, so this is for the school to fix, however often the refresh is retried.
APP_NOT_IN_TENANT_CODES = {700016}
# unauthorized_client AADSTS7000112, "Application is disabled" (same document; Entra's
# troubleshooting article of that name): the tenant's admin disabled the app's enterprise
# application. Only they can enable it again; retrying or consenting again does not.
APP_DISABLED_CODES = {7000112}
# Microsoft's sign-in service not answering: MSAL lets requests' errors through and raises
# MsalServiceError for any 5xx from the token or discovery endpoint (msal oauth2cli/oauth2.py,
# throttled_http_client.py), e.g. 503 temporarily_unavailable during an Entra outage.
SIGN_IN_SERVICE_FAILURES = (requests.RequestException, MsalServiceError)


class ReconnectNeeded(Exception):
    """Tokens no longer refresh; an admin must connect again. str() says what happened, safe to
    show; each place that shows it adds what to do there, once."""


def callback_url():
    """The redirect URI registered in Entra: the one fixed callback, as an absolute URL."""
    return url_for("microsoft_callback.callback", _external=True)


def is_microsoft_cloud(authority):
    return (urlsplit(authority).hostname or "").lower() in MICROSOFT_CLOUD_HOSTS


def build_msal_app(token_cache=None, config=None, exclude_scopes=None):
    config = config or current_app.config
    authority = config["MICROSOFT_AUTHORITY"]
    return msal.ConfidentialClientApplication(
        config["MICROSOFT_CLIENT_ID"],
        client_credential=config["MICROSOFT_CLIENT_SECRET"],
        authority=authority,
        token_cache=token_cache,
        # Validating a non-Microsoft authority would make MSAL call Microsoft to ask about it.
        instance_discovery=is_microsoft_cloud(authority),
        timeout=config["HTTP_TIMEOUT_SECONDS"],
        exclude_scopes=exclude_scopes,
    )


def load_cache(connection):
    cache = msal.SerializableTokenCache()
    if connection.token_cache_encrypted:
        cache.deserialize(tokens.decrypt_cache(connection.token_cache_encrypted))
    return cache


def save_cache_if_changed(connection, cache):
    if cache.has_state_changed:
        connection.token_cache_encrypted = tokens.encrypt_cache(cache.serialize())
        db.session.commit()


@contextmanager
def token_lock(connection_id, timeout=60):
    """Refresh tokens rotate: two processes refreshing one cache at once must take turns."""
    lock = get_redis().lock(redis_key("token-lock", connection_id), timeout=timeout,
                            blocking_timeout=timeout)
    if not lock.acquire():
        raise TimeoutError("Another process held the Microsoft token lock for too long.")
    try:
        yield
    finally:
        try:
            lock.release()
        except Exception:  # the lock expired under us; the next holder is already safe
            pass


def mark_reconnect_needed(connection, reason):
    connection.status = RECONNECT_NEEDED
    connection.status_reason = reason
    db.session.commit()


def start_auth_code_flow(redirect_uri, login_hint=None, prompt="select_account"):
    """The auth-code flow dict (PKCE, state and nonce made by MSAL); keep it server-side."""
    return build_msal_app().initiate_auth_code_flow(
        SCOPES, redirect_uri=redirect_uri, login_hint=login_hint or None, prompt=prompt,
        response_mode="query")


def finish_auth_code_flow(flow, auth_response):
    """Redeems the code; returns (MSAL result, the cache now holding the tokens).

    Raises ValueError when the response does not belong to the flow (state mismatch).
    """
    cache = msal.SerializableTokenCache()
    result = build_msal_app(cache).acquire_token_by_auth_code_flow(flow, auth_response,
                                                                  scopes=SCOPES)
    return result, cache


def start_sign_in_flow(redirect_uri, login_hint=None):
    """Sign in with Microsoft (to rostersync itself): OpenID Connect asking for openid, profile
    and email only, which any user may consent to (no admin consent, no Graph, no refresh
    token). PKCE, state and nonce are made by MSAL; keep the flow server-side."""
    return _sign_in_app().initiate_auth_code_flow(
        SIGN_IN_SCOPES, redirect_uri=redirect_uri, login_hint=login_hint or None,
        prompt="select_account", response_mode="query")


def finish_sign_in_flow(flow, auth_response):
    """MSAL's result, id_token_claims included; the cache is thrown away (no token is kept).
    Raises ValueError (state mismatch) and RuntimeError (nonce mismatch) as MSAL does."""
    return _sign_in_app().acquire_token_by_auth_code_flow(flow, auth_response,
                                                          scopes=SIGN_IN_SCOPES)


def _sign_in_app():
    # MSAL adds openid and profile itself, and offline_access unless excluded.
    return build_msal_app(msal.TokenCache(), exclude_scopes=["offline_access"])


def home_account_id(cache):
    """The account MSAL keyed the new tokens under (silent refreshes look it up by this)."""
    accounts = list(cache.search(msal.TokenCache.CredentialType.ACCOUNT))
    return accounts[0]["home_account_id"] if accounts else ""


def admin_consent_url(redirect_uri, tenant=None, config=None, state=None):
    """Microsoft's admin-consent page for this app, to forward to a tenant's administrator
    (admin_consent.consent_link adds the state that proves an answer is ours)."""
    config = config or current_app.config
    authority = config["MICROSOFT_AUTHORITY"].rstrip("/")
    if tenant:
        authority = authority.rsplit("/", 1)[0] + "/" + tenant
    query = {"client_id": config["MICROSOFT_CLIENT_ID"], "redirect_uri": redirect_uri,
             "scope": " ".join(f"https://graph.microsoft.com/{s}" for s in SCOPES)}
    if state:
        query["state"] = state
    return f"{authority}/v2.0/adminconsent?{urlencode(query)}"


def aadsts_summary(description):
    """Microsoft's message without its trace and correlation ids (kept short for a person)."""
    return description.split(" Trace ID:", 1)[0].strip().splitlines()[0] if description else ""


def access_token_for(connection_id, force_refresh=False):
    """A Graph access token for the connection, refreshed silently; raises ReconnectNeeded."""
    return token_result_for(connection_id, force_refresh)["access_token"]


def token_result_for(connection_id, force_refresh=False):
    """MSAL's whole result (access_token, scope, ...) for the connection; raises ReconnectNeeded."""
    with token_lock(connection_id):
        # Read afresh under the lock: an object this session loaded earlier may hold tokens a
        # reconnect has replaced since, which saving the refreshed cache would write back.
        connection = db.session.get(MicrosoftConnection, connection_id, populate_existing=True)
        if connection is None:
            raise ReconnectNeeded("The Microsoft connection was removed.")
        if connection.needs_reconnect:
            raise ReconnectNeeded(connection.status_reason
                                  or "The saved Microsoft sign-in no longer works.")
        cache = load_cache(connection)
        try:
            result = _silent_result(build_msal_app(cache), connection, force_refresh)
        except SIGN_IN_SERVICE_FAILURES as error:  # an outage says nothing about the sign-in
            raise ConnectionError(f"Microsoft sign-in service error: {sign_in_failure(error)}") \
                from error
        save_cache_if_changed(connection, cache)
        return _token_or_reconnect(connection, result)


def _silent_result(app, connection, force_refresh):
    accounts = [a for a in app.get_accounts()
                if a.get("home_account_id") == connection.home_account_id]
    if not accounts:
        return None
    return app.acquire_token_silent_with_error(SCOPES, accounts[0], force_refresh=force_refresh)


def sign_in_failure(error):
    """One of SIGN_IN_SERVICE_FAILURES in a few words (never a URL or a token)."""
    return str(error) if isinstance(error, MsalServiceError) else type(error).__name__


def _token_or_reconnect(connection, result):
    if result and result.get("error") == "invalid_client":  # the platform's secret, not the school
        raise app_credentials.refused(result)
    if result and result.get("token_source") == "identity_provider":
        app_credentials.accepted()  # Microsoft took the client secret just now
    if result and "access_token" in result:
        if result.get("scope") and result["scope"] != connection.granted_scopes:
            connection.granted_scopes = result["scope"]
            db.session.commit()
        if connection.status != CONNECTED:
            connection.status, connection.status_reason = CONNECTED, None
            db.session.commit()
        return result
    error = (result or {}).get("error", "no_account")
    codes = set((result or {}).get("error_codes") or ())
    if THROTTLED_CODES & codes:
        raise ConnectionError("Microsoft sign-in service error: "
                              f"{aadsts_summary(result.get('error_description', ''))}")
    if APP_NOT_IN_TENANT_CODES & codes:
        _refused(connection, app_not_in_tenant(connection))
    if APP_DISABLED_CODES & codes:
        _refused(connection, app_disabled_in_tenant(connection))
    if error in REFRESH_FAILURES:
        app_credentials.accepted()  # Microsoft took the client secret and refused the grant
    if result is None or error in REFRESH_FAILURES:
        _refused(connection, refused_sign_in(
            connection.account_email, error, codes,
            aadsts_summary((result or {}).get("error_description", ""))))
    raise ConnectionError(f"Microsoft sign-in service error: {error}")


def app_not_in_tenant(connection):
    """What happened when the school's tenant no longer holds the app (without the advice to
    reconnect, which each page gives itself)."""
    return ("Microsoft says the rostersync app is no longer in your Microsoft tenant "
            f"({connection.tenant_name or connection.tenant_id}); someone may have removed it "
            "under Enterprise applications. Connecting with Microsoft adds it back, and an "
            "administrator of that tenant must approve it; if that fails too, contact support.")


def app_disabled_in_tenant(connection):
    """What happened when the school's tenant disabled the app, and who can undo it (the advice
    to reconnect afterwards comes from each page)."""
    return ("Microsoft says the rostersync app is disabled in your Microsoft tenant "
            f"({connection.tenant_name or connection.tenant_id}). An administrator of that tenant "
            "can turn it back on in the Microsoft Entra admin center: Enterprise applications › "
            "rostersync › Properties › Enabled for users to sign-in: Yes. If it is on and this "
            "stays, contact support.")


def _refused(connection, reason):
    mark_reconnect_needed(connection, reason)
    raise ReconnectNeeded(reason)
