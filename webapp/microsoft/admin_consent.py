"""The admin-consent link a school forwards to its Microsoft 365 administrator, and what
Microsoft's answer at /microsoft/callback means.

Microsoft's admin consent endpoint comes back with admin_consent=True whether the administrator
approved or not ("Admin consent on the Microsoft identity platform": the error response carries
it too, with error, error_description and no tenant). So approval is exactly: no error, a
tenant, and a state this app put in a link it handed out. The link is kept per school (the same
link on every page for LINK_DAYS days); its state lives in Redis, since the administrator opens
it in their own browser, without our session.
"""
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta

from webapp.clock import utcnow
from webapp.extensions import db
from webapp.microsoft import identity
from webapp.orgs.models import Organisation
from webapp.redis_conn import get_redis, redis_key

LINK_DAYS = 14
# Answers at the callback. DECLINED and NOT_AN_ADMIN are refusals; FAILED and UNCONFIRMED failures.
APPROVED, DECLINED, NOT_AN_ADMIN, FAILED, UNCONFIRMED = (
    "approved", "declined", "not_an_admin", "failed", "unconfirmed")
REFUSALS = {DECLINED, NOT_AN_ADMIN}
# AADSTS codes that mean the account that signed in may not approve apps for the organisation.
NOT_ALLOWED_CODES = {"AADSTS90093", "AADSTS90094", "AADSTS90095", "AADSTS900941"}
REFUSAL_ERRORS = {"consent_required", "access_denied"}
WHO_CAN_APPROVE = ("a Global Administrator or a Privileged Role Administrator of your Microsoft 365 "
                   "tenant (a Cloud Application Administrator or an Application Administrator can "
                   "also approve these permissions)")


def _state_key(state):
    return redis_key("admin-consent", state)


def consent_link(organisation, redirect_uri, config=None):
    """This school's admin-consent link (the same one until it is LINK_DAYS - 1 days old)."""
    redis, org_key = get_redis(), redis_key("admin-consent-link", organisation.id)
    state = redis.get(org_key)
    state = state.decode() if isinstance(state, bytes) else state
    if not state or not redis.exists(_state_key(state)):
        state = secrets.token_urlsafe(24)
        record = {"organisation_id": organisation.id, "issued_at": utcnow().isoformat()}
        redis.set(_state_key(state), json.dumps(record), ex=timedelta(days=LINK_DAYS))
        redis.set(org_key, state, ex=timedelta(days=LINK_DAYS - 1))
    return identity.admin_consent_url(redirect_uri, state=state, config=config)


@dataclass
class ConsentAnswer:
    code: str
    detail: str = ""
    tenant_id: str = None
    organisation: object = None  # the school whose link it was, when the state is ours

    @property
    def refused(self):
        return self.code in REFUSALS


def judge(answer):
    """What Microsoft's redirect from the admin consent endpoint means (answer: its query)."""
    stored = _issued(answer.get("state"))
    organisation = db.session.get(Organisation, stored["organisation_id"]) if stored else None
    description = identity.aadsts_summary(answer.get("error_description", ""))
    error = answer.get("error")
    if error:
        code = description.split(":", 1)[0] if description.startswith("AADSTS") else ""
        if error in REFUSAL_ERRORS:
            kind = NOT_AN_ADMIN if code in NOT_ALLOWED_CODES else DECLINED
            return ConsentAnswer(kind, description or error, organisation=organisation)
        return ConsentAnswer(FAILED, f"{error}: {description}" if description else error,
                             organisation=organisation)
    if not answer.get("tenant"):
        return ConsentAnswer(FAILED, "Microsoft's answer did not say which organisation approved.",
                             organisation=organisation)
    if stored is None:
        return ConsentAnswer(UNCONFIRMED, "This answer does not belong to an approval link "
                             f"rostersync handed out in the last {LINK_DAYS} days.")
    return ConsentAnswer(APPROVED, tenant_id=answer["tenant"], organisation=organisation)


def _issued(state):
    if not state:
        return None
    raw = get_redis().get(_state_key(state))
    return json.loads(raw) if raw else None
