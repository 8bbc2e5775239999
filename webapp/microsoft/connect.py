"""Connect with Microsoft: start the auth-code flow, then judge what came back.

The flow (with its PKCE verifier) waits in Redis under a random id that is the only thing the
cookie session holds; a callback takes it exactly once, so a reused callback finds nothing.
Before any token is kept, the account checks run (the seed's troubleshooting items).
"""
import json
import logging
import secrets
from dataclasses import dataclass, field
from datetime import timedelta, timezone

import requests
from flask import current_app

from webapp.clock import utcnow
from webapp.microsoft import app_credentials, identity, services, tokens
from webapp.microsoft.identity import aadsts_summary
from webapp.microsoft.graph import GraphClient, GraphError, GraphGaveUp
from webapp.microsoft.models import ATTEMPT_STARTED, CONNECTED
from webapp.orgs.services import membership_for
from webapp.redis_conn import get_redis, redis_key

log = logging.getLogger(__name__)
FLOW_TTL_SECONDS = 15 * 60
ADMIN_CONSENT_CODES = {"AADSTS65001", "AADSTS90094", "AADSTS90095", "AADSTS90008"}
PROFILE_FIELDS = "id,userPrincipalName,mail,accountEnabled"

# Outcome codes (stored on ConnectAttempt.outcome; each has a page section in outcome.html,
# which compares these codes). An attempt that worked ends CONNECTED, the connection's status.
CANCELLED = "cancelled"
ADMIN_CONSENT_NEEDED = "admin_consent_needed"
STATE_MISMATCH = "state_mismatch"
FLOW_MISSING = "flow_missing"
UNREACHABLE = "unreachable"
MICROSOFT_ERROR = "microsoft_error"
WRONG_ACCOUNT = "wrong_account"
MISSING_ORGANISATIONS = "missing_organisations"
ACCOUNT_DISABLED = "account_disabled"
APP_CREDENTIALS_REFUSED = "app_credentials_refused"  # the platform's secret: the operators' problem
# Outcomes whose page hands over the admin-consent link (a decline may also be a non-admin who
# pressed "Return to the application" on Microsoft's Need admin approval page).
CONSENT_LINK_OUTCOMES = {ADMIN_CONSENT_NEEDED, CANCELLED}


OUTCOME_LABELS = {
    CONNECTED: "Connected", CANCELLED: "Cancelled at Microsoft",
    ADMIN_CONSENT_NEEDED: "Needs an administrator's approval",
    STATE_MISMATCH: "Stopped: the answer did not match the sign-in",
    FLOW_MISSING: "Stopped: the sign-in had expired or was already used",
    UNREACHABLE: "Microsoft could not be reached", MICROSOFT_ERROR: "Refused by Microsoft",
    WRONG_ACCOUNT: "Wrong Microsoft account", MISSING_ORGANISATIONS: "Account missing from a school",
    ACCOUNT_DISABLED: "Account disabled in Microsoft",
    APP_CREDENTIALS_REFUSED: "Refused: the platform's app credentials (operators told)",
}


def attempt_outcome_label(attempt, now=None):
    """How a connect attempt ended. One Microsoft never sent back is in progress while its
    sign-in could still return (FLOW_TTL_SECONDS), and abandoned after that."""
    if attempt.outcome == ATTEMPT_STARTED:
        return "In progress (not finished yet)" if attempt_may_return(attempt, now) \
            else "Abandoned (not finished)"
    return OUTCOME_LABELS.get(attempt.outcome, attempt.outcome)


def attempt_may_return(attempt, now=None):
    started = attempt.started_at
    started = started if started.tzinfo else started.replace(tzinfo=timezone.utc)
    return (now or utcnow()) - started < timedelta(seconds=FLOW_TTL_SECONDS)


class MicrosoftUnreachable(Exception):
    """Microsoft's sign-in service could not be reached; str() is safe to show."""


@dataclass
class Outcome:
    code: str
    account: str = None
    tenant_id: str = None
    detail: str = None
    missing_organisations: list = field(default_factory=list)
    failures: list = field(default_factory=list)
    connection: object = None
    groups_cleared: int = 0  # schools whose groups a different tenant's connection forgot

    @property
    def connected(self):
        return self.code == CONNECTED


def begin_connect(organisation, user, redirect_uri, different_account=False, login_hint=None):
    """Records the attempt and returns (Microsoft's sign-in URL, the flow id for the session).

    login_hint: the Microsoft account the admin signed in to rostersync with, if they did (so
    the account connected is that one); otherwise their email address."""
    attempt = services.record_attempt_start(organisation, user)
    # select_account: a browser's remembered Microsoft account is never reused silently;
    # login: for "a different account", ask for the password of the address we expect.
    prompt = "login" if different_account else "select_account"
    try:
        flow = identity.start_auth_code_flow(redirect_uri, login_hint=login_hint or user.email,
                                             prompt=prompt)
    except (*identity.SIGN_IN_SERVICE_FAILURES, ValueError) as error:
        services.finish_attempt(attempt.id, UNREACHABLE, detail=_describe(error))
        raise MicrosoftUnreachable(_describe(error)) from error
    flow_id = secrets.token_urlsafe(32)
    stored = {"flow": flow, "organisation_id": organisation.id, "user_id": user.id,
              "attempt_id": attempt.id}
    get_redis().set(redis_key("msal-flow", flow_id), json.dumps(stored), ex=FLOW_TTL_SECONDS)
    return flow["auth_uri"], flow_id


def take_flow(flow_id):
    """The stored flow, removed as it is read (a second callback with it gets None)."""
    if not flow_id:
        return None
    raw = get_redis().getdel(redis_key("msal-flow", flow_id))
    return json.loads(raw) if raw else None


def complete_connect(stored, organisation, user, auth_response):
    outcome = _judge(stored["flow"], organisation, user, auth_response)
    services.finish_attempt(stored["attempt_id"], outcome.code, detail=outcome.detail,
                            account=outcome.account, tenant_id=outcome.tenant_id)
    return outcome


def _judge(flow, organisation, user, auth_response):
    if auth_response.get("state") != flow.get("state"):
        return Outcome(STATE_MISMATCH, detail="The answer from Microsoft did not match this sign-in.")
    if auth_response.get("error"):
        return _error_outcome(auth_response)
    try:
        result, cache = identity.finish_auth_code_flow(flow, auth_response)
    except ValueError:
        return Outcome(STATE_MISMATCH, detail="The answer from Microsoft did not match this sign-in.")
    except identity.SIGN_IN_SERVICE_FAILURES as error:
        return Outcome(UNREACHABLE, detail=_describe(error))
    if result.get("error") == "invalid_client":
        code = app_credentials.refused(result).code
        return Outcome(APP_CREDENTIALS_REFUSED, detail=code or "invalid_client")
    if "error" in result:
        return _error_outcome(result)
    app_credentials.accepted()
    return _check_account(organisation, user, result, cache)


def _check_account(organisation, user, result, cache):
    claims = result.get("id_token_claims") or {}
    account, tenant_id = claims.get("preferred_username") or "", claims.get("tid")
    try:
        profile = fetch_profile(result["access_token"])
    except (requests.RequestException, GraphGaveUp) as error:
        return Outcome(UNREACHABLE, account=account, tenant_id=tenant_id, detail=_describe(error))
    except GraphError as error:
        return Outcome(MICROSOFT_ERROR, account=account, tenant_id=tenant_id, detail=str(error))
    account = account or profile.get("userPrincipalName") or ""
    failures, missing = account_check_failures(organisation, user, account, profile)
    if failures:
        return Outcome(failures[0], account=account, tenant_id=tenant_id, failures=failures,
                       missing_organisations=missing, detail=_failure_detail(failures, account, missing))
    connection, groups_cleared = services.save_connection(organisation, user, {
        "account": account, "object_id": claims.get("oid") or profile.get("id"),
        "tenant_id": tenant_id, "tenant_name": fetch_organisation_name(result["access_token"]),
        "home_account_id": identity.home_account_id(cache),
        "scopes": result.get("scope", "")}, tokens.encrypt_cache(cache.serialize()))
    return Outcome(CONNECTED, account=account, tenant_id=tenant_id, connection=connection,
                   groups_cleared=groups_cleared)


def _graph_for_token(access_token):
    return GraphClient(current_app.config["MICROSOFT_GRAPH_URL"],
                       lambda force_refresh=False: access_token,
                       timeout=current_app.config["HTTP_TIMEOUT_SECONDS"], max_attempts=3,
                       max_total_wait=10)


def fetch_profile(access_token):
    return _graph_for_token(access_token).get_json("me", params={"$select": PROFILE_FIELDS})


def fetch_organisation_name(access_token):
    """The tenant's display name (User.Read may read it), shown beside its id. Only a label:
    if Microsoft will not say, the connection is kept and pages show the id alone."""
    try:
        found = _graph_for_token(access_token).get_json(
            "organization", params={"$select": "id,displayName"})
    except (GraphError, requests.RequestException) as error:
        log.warning("Microsoft did not give the organisation's name (%s)", type(error).__name__)
        return None
    organisations = found.get("value") or [{}]
    return (organisations[0].get("displayName") or "").strip()[:255] or None


def addresses_match(signed_in_email, account, profile_mail):
    """Exactly the same address (ignoring case) as the sign-in name or the mailbox; no aliases."""
    wanted = (signed_in_email or "").strip().lower()
    returned = {(account or "").strip().lower(), (profile_mail or "").strip().lower()} - {""}
    return wanted in returned


def missing_organisations(organisation, user):
    """Organisations of the trust where this account is not an active member."""
    missing = []
    for org in organisation.trust_organisations():
        membership = membership_for(user, org)
        if membership is None or membership.status != "active":
            missing.append(org)
    return missing


def account_check_failures(organisation, user, account, profile):
    failures = []
    if not addresses_match(user.email, account, profile.get("mail")):
        failures.append(WRONG_ACCOUNT)
    missing = missing_organisations(organisation, user)
    if missing:
        failures.append(MISSING_ORGANISATIONS)
    if profile.get("accountEnabled") is False:
        failures.append(ACCOUNT_DISABLED)
    return failures, missing


def _failure_detail(failures, account, missing):
    parts = {WRONG_ACCOUNT: f"Microsoft connected {account}",
             MISSING_ORGANISATIONS: "missing from " + ", ".join(o.name for o in missing),
             ACCOUNT_DISABLED: f"{account} is disabled in Microsoft"}
    return "; ".join(parts[f] for f in failures)


def _error_outcome(response):
    error = response.get("error", "")
    description = aadsts_summary(response.get("error_description", ""))
    code = description.split(":", 1)[0] if description.startswith("AADSTS") else ""
    if code in ADMIN_CONSENT_CODES or error == "consent_required":
        return Outcome(ADMIN_CONSENT_NEEDED, detail=description or error)
    if code == "AADSTS50057":
        return Outcome(ACCOUNT_DISABLED, detail=description)
    if error == "access_denied":
        return Outcome(CANCELLED, detail=description or error)
    return Outcome(MICROSOFT_ERROR, detail=f"{error}: {description}" if description else error)


def _describe(error):
    return f"Could not reach Microsoft's sign-in service ({identity.sign_in_failure(error)})."
