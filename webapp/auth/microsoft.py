"""Sign in with Microsoft: OpenID Connect through MSAL, with the app registration Connect uses.

`begin` sends the browser to Microsoft (openid profile email; state, nonce and PKCE by MSAL);
`finish` redeems the answer and returns the Microsoft account it proves, after the checks MSAL
leaves to the app: the ID token is for this app (aud), from the tenant it names (iss), not
expired, and carries tid and oid. Which platform account that is, is webapp.auth.links' job:
by tenant id and object id only, never by a name or an email address.
"""
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlsplit

from flask import current_app

from webapp.clock import utcnow
from webapp.microsoft import callbacks, identity
from webapp.microsoft.connect import aadsts_summary

SIGN_IN, LINK, INVITATION = callbacks.SIGN_IN, "link", "invitation"
# Why a Microsoft sign-in did not give an account (templates/auth/_microsoft_problem.html).
FLOW_MISSING, STATE_MISMATCH, CANCELLED = "flow_missing", "state_mismatch", "cancelled"
UNREACHABLE, MICROSOFT_ERROR, ACCOUNT_DISABLED = "unreachable", "microsoft_error", "disabled"
UNTRUSTED = "untrusted"
CLOCK_SKEW_SECONDS = 300
GUID = re.compile(r"^[0-9a-fA-F-]{32,36}$")


class MicrosoftSignInProblem(Exception):
    """code: one of the codes above; detail: Microsoft's words, safe to show (no token)."""

    def __init__(self, code, detail=""):
        super().__init__(code)
        self.code, self.detail = code, detail


@dataclass(frozen=True)
class MicrosoftAccount:
    tenant_id: str
    object_id: str
    username: str  # preferred_username: for people to read and for login_hint, never to match
    name: str


def is_configured(config=None):
    config = config or current_app.config
    return bool(config.get("MICROSOFT_CLIENT_ID") and config.get("MICROSOFT_CLIENT_SECRET"))


def begin(purpose, login_hint=None, **context):
    """Keeps the flow for this browser and returns Microsoft's sign-in address.
    Raises MicrosoftSignInProblem(UNREACHABLE) when Microsoft cannot be asked."""
    try:
        flow = identity.start_sign_in_flow(identity.callback_url(), login_hint=login_hint)
    except (*identity.SIGN_IN_SERVICE_FAILURES, ValueError) as error:
        raise MicrosoftSignInProblem(UNREACHABLE, _unreachable(error)) from error
    callbacks.keep_flow(purpose, flow, **context)
    return flow["auth_uri"]


def finish(stored, auth_response):
    """The Microsoft account the answer proves, or MicrosoftSignInProblem."""
    if stored is None:
        raise MicrosoftSignInProblem(FLOW_MISSING)
    flow = stored["flow"]
    if auth_response.get("state") != flow.get("state"):
        raise MicrosoftSignInProblem(STATE_MISMATCH)
    if auth_response.get("error"):
        raise _refusal(auth_response)
    try:
        result = identity.finish_sign_in_flow(flow, auth_response)
    except (ValueError, RuntimeError):  # state or nonce not this flow's
        raise MicrosoftSignInProblem(STATE_MISMATCH) from None
    except identity.SIGN_IN_SERVICE_FAILURES as error:
        raise MicrosoftSignInProblem(UNREACHABLE, _unreachable(error)) from None
    if "error" in result:
        raise _refusal(result)
    return account_from_claims(result.get("id_token_claims") or {})


def account_from_claims(claims, config=None, now=None):
    config = config or current_app.config
    tenant_id, object_id = str(claims.get("tid") or ""), str(claims.get("oid") or "")
    if claims.get("aud") != config["MICROSOFT_CLIENT_ID"]:
        raise MicrosoftSignInProblem(UNTRUSTED, "The ID token is for another application.")
    if not (GUID.match(tenant_id) and GUID.match(object_id)):
        raise MicrosoftSignInProblem(UNTRUSTED, "The ID token names no tenant or account.")
    if claims.get("iss") != expected_issuer(config["MICROSOFT_AUTHORITY"], tenant_id):
        raise MicrosoftSignInProblem(UNTRUSTED, "The ID token comes from another issuer.")
    now = now or utcnow()
    expires = datetime.fromtimestamp(int(claims.get("exp") or 0), timezone.utc)
    if (now - expires).total_seconds() > CLOCK_SKEW_SECONDS:
        raise MicrosoftSignInProblem(UNTRUSTED, "The ID token has expired.")
    return MicrosoftAccount(tenant_id.lower(), object_id.lower(),
                            str(claims.get("preferred_username") or "")[:320],
                            str(claims.get("name") or "")[:255])


def expected_issuer(authority, tenant_id):
    """v2.0 tokens name the user's tenant: https://<authority host>/<tid>/v2.0."""
    parts = urlsplit(authority)
    return f"{parts.scheme}://{parts.netloc}/{tenant_id}/v2.0"


def _refusal(response):
    error = response.get("error", "")
    description = aadsts_summary(response.get("error_description", ""))
    if description.startswith("AADSTS50057"):
        return MicrosoftSignInProblem(ACCOUNT_DISABLED, description)
    if error == "access_denied":
        return MicrosoftSignInProblem(CANCELLED, description)
    return MicrosoftSignInProblem(MICROSOFT_ERROR, f"{error}: {description}" if description else error)


def _unreachable(error):
    return (f"Microsoft's sign-in service could not be reached "
            f"({identity.sign_in_failure(error)}).")
