"""Does Microsoft accept this deployment's app registration? Asked without any user.

`flask --app wsgi microsoft check` (the operator, before the first school connects) and the
schedule tick (to end a platform-wide pause, see app_credentials) both ask here. The proof is an
app-only token for Microsoft Graph from the app's home tenant: the client credentials flow needs
a specific tenant and one resource's `.default` scope ("Microsoft identity platform and the OAuth
2.0 client credentials flow"). It proves the client id and secret; it cannot prove the delegated
permissions or any school's consent, which need a person signing in (Troubleshooting does that).
"""
import logging
from dataclasses import dataclass, field

import msal
import requests
from flask import current_app
from sqlalchemy import select

from webapp.extensions import db
from webapp.microsoft import app_credentials, identity
from webapp.microsoft.client_secret import secret_expiry_notice
from webapp.microsoft.models import CONNECTED, MicrosoftConnection

GRAPH_DEFAULT_SCOPE = "https://graph.microsoft.com/.default"
PASS, WARN, FAIL = "pass", "warn", "fail"
TOKEN_CODE_WORDS = {
    "AADSTS700016": "no app with this MICROSOFT_CLIENT_ID is registered in that tenant: check the "
                    "Application (client) ID and MICROSOFT_HOME_TENANT_ID",
    "AADSTS7000112": "the app's enterprise application is disabled in that tenant: turn on "
                     "Enabled for users to sign-in under Enterprise applications › the app › "
                     "Properties",
    "AADSTS90002": "MICROSOFT_HOME_TENANT_ID names no tenant: use the Directory (tenant) ID from "
                   "the app registration's Overview page",
    "AADSTS9001023": "the app-only check needs a specific tenant, not organizations or common: "
                     "set MICROSOFT_HOME_TENANT_ID",
}
log = logging.getLogger(__name__)


@dataclass
class Step:
    title: str
    status: str
    lines: list = field(default_factory=list)


def home_authority(config):
    """The configured authority with its tenant segment replaced by the app's home tenant."""
    base = config["MICROSOFT_AUTHORITY"].rstrip("/").rsplit("/", 1)[0]
    return f"{base}/{config['MICROSOFT_HOME_TENANT_ID']}"


def app_only_token(config):
    """MSAL's answer to a client credentials request (raises one of
    identity.SIGN_IN_SERVICE_FAILURES when Microsoft's sign-in service cannot answer)."""
    authority = home_authority(config)
    app = msal.ConfidentialClientApplication(
        config["MICROSOFT_CLIENT_ID"], client_credential=config["MICROSOFT_CLIENT_SECRET"],
        authority=authority, instance_discovery=identity.is_microsoft_cloud(authority),
        timeout=config["HTTP_TIMEOUT_SECONDS"])
    return app.acquire_token_for_client([GRAPH_DEFAULT_SCOPE])


def token_words(result):
    code = app_credentials.aadsts_code(result)
    if result.get("error") == "invalid_client":
        return f"{code or 'invalid_client'}: {app_credentials.plain_words(code)}"
    return f"{code or result.get('error')}: " + TOKEN_CODE_WORDS.get(
        code, identity.aadsts_summary(result.get("error_description", "")) or "refused")


def platform_pause(now):
    """The refusal record while automatic syncs are paused for everyone, else None. When the
    back-off has run out, one token request decides first."""
    record = app_credentials.refusal()
    if record is None or not app_credentials.probe_due(record, now):
        return record
    probe(now)
    return app_credentials.refusal()


def probe(now):
    """One token request with the app's credentials; its answer sets or clears the pause."""
    config = current_app.config
    try:
        if config.get("MICROSOFT_HOME_TENANT_ID"):
            result = app_only_token(config)
            if "access_token" in result:
                app_credentials.accepted()
            elif result.get("error") == "invalid_client":
                app_credentials.refused(result, now)
            else:
                app_credentials.postpone(now)
            return
        connection = db.session.scalar(select(MicrosoftConnection).where(
            MicrosoftConnection.status == CONNECTED).order_by(MicrosoftConnection.updated_at.desc()))
        if connection is None:
            return app_credentials.postpone(now)
        identity.token_result_for(connection.id, force_refresh=True)
    except (app_credentials.AppCredentialsRefused, identity.ReconnectNeeded):
        pass  # the token request recorded its answer itself
    except (*identity.SIGN_IN_SERVICE_FAILURES, ValueError, ConnectionError) as error:
        log.warning("could not ask Microsoft about the app credentials (%s)", type(error).__name__)
        app_credentials.postpone(now)


def redirect_uri():
    """The redirect URI the app registration must list: PUBLIC_URL + /microsoft/callback."""
    with current_app.test_request_context("/", base_url=current_app.config["PUBLIC_URL"]):
        return identity.callback_url()


def operator_checks(config):
    """Every step of `flask --app wsgi microsoft check`, in order."""
    steps = [settings_step(config), discovery_step(config), token_step(config),
             redirect_step(), permissions_step(), secret_step(config)]
    steps.append(Step("Not checked here (needs a person signing in)", PASS, [
        "whether each school's tenant approved the delegated permissions (admin consent), and "
        "whether the sync account may read its groups: Connect with Microsoft and the "
        "Troubleshooting page check those."]))
    return steps


def settings_step(config):
    missing = [name for name in ("MICROSOFT_CLIENT_ID", "MICROSOFT_CLIENT_SECRET",
                                 "MICROSOFT_HOME_TENANT_ID") if not config.get(name)]
    if missing:
        return Step("Settings", FAIL, [f"{name} is not set." for name in missing])
    return Step("Settings", PASS, [f"Client id {config['MICROSOFT_CLIENT_ID']}, home tenant "
                                   f"{config['MICROSOFT_HOME_TENANT_ID']}, authority "
                                   f"{config['MICROSOFT_AUTHORITY']}."])


def discovery_step(config):
    url = config["MICROSOFT_AUTHORITY"].rstrip("/") + "/v2.0/.well-known/openid-configuration"
    try:
        response = requests.get(url, timeout=config["HTTP_TIMEOUT_SECONDS"])
        found = response.json() if response.ok else {}
    except (requests.RequestException, ValueError) as error:
        return Step("Discovery document", FAIL, [f"{url}: could not be read ({type(error).__name__})."])
    if not {"authorization_endpoint", "token_endpoint"} <= set(found):
        return Step("Discovery document", FAIL, [f"{url} answered {response.status_code} without "
                                                 "the sign-in endpoints: check MICROSOFT_AUTHORITY."])
    return Step("Discovery document", PASS, [f"{url}", f"token endpoint {found['token_endpoint']}"])


def token_step(config):
    title = f"App-only token for {GRAPH_DEFAULT_SCOPE}"
    if not all(config.get(n) for n in ("MICROSOFT_CLIENT_ID", "MICROSOFT_CLIENT_SECRET",
                                       "MICROSOFT_HOME_TENANT_ID")):
        return Step(title, FAIL, ["Not tried: the settings above are missing."])
    try:
        result = app_only_token(config)
    except (*identity.SIGN_IN_SERVICE_FAILURES, ValueError) as error:
        return Step(title, FAIL, [f"Microsoft could not be reached "
                                  f"({identity.sign_in_failure(error)})."])
    if "access_token" not in result:
        return Step(title, FAIL, [token_words(result)])
    app_credentials.accepted()  # a paused platform resumes
    return Step(title, PASS, [f"Microsoft accepted the client id and secret (tenant "
                              f"{config['MICROSOFT_HOME_TENANT_ID']}). The app has no application "
                              "permissions, so the token grants nothing: it only proves the "
                              "credentials."])


def redirect_step():
    uri = redirect_uri()
    lines = [f"Register exactly {uri} as a Web redirect URI in the app registration."]
    if not uri.startswith("https://") and "://localhost" not in uri and "://127.0.0.1" not in uri:
        return Step("Redirect URI", WARN, lines + ["Microsoft requires https:// here (only "
                                                   "localhost may use http): set PUBLIC_URL."])
    return Step("Redirect URI", PASS, lines)


def permissions_step():
    needs_admin = {"GroupMember.Read.All", "User.Read.All"}
    return Step("Delegated permissions to add (Microsoft Graph)", PASS, [
        f"{scope}" + (" (admin consent required)" if scope in needs_admin else "")
        for scope in identity.SCOPES] + ["No application permissions."])


def secret_step(config):
    notice = secret_expiry_notice(config)
    if not config.get("MICROSOFT_CLIENT_SECRET_EXPIRES"):
        return Step("Client secret expiry", WARN, [
            "MICROSOFT_CLIENT_SECRET_EXPIRES is not set: nobody is warned before the secret "
            "expires. Set it to the Expires date shown in Entra (YYYY-MM-DD)."])
    if notice is None:
        return Step("Client secret expiry", PASS,
                    [f"Expires {config['MICROSOFT_CLIENT_SECRET_EXPIRES']}."])
    return Step("Client secret expiry", FAIL if notice.expired else WARN, [notice.message])
