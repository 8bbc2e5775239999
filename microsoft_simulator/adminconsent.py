"""The admin consent endpoint: an administrator grants an app tenant-wide."""
import secrets

from flask import Blueprint, request

from . import demo, pages
from .browser_flow import (client_of, error_page, error_redirect, page_response, registered_client,
                           remembered_user, respond, sign_in_page, sim_state, step_url, transaction)
from .tokens import GRAPH_SCOPES, short_scope

bp = Blueprint("adminconsent", __name__)


@bp.get("/<tenant>/v2.0/adminconsent")
def adminconsent(tenant):
    state, args = sim_state(), request.args
    client, refusal = registered_client(state, tenant, args)
    if refusal is not None:
        return refusal
    requested = [short_scope(s) for s in args.get("scope", "").split() if s]
    scopes = [s for s in requested if s in GRAPH_SCOPES] or list(client["permissions"])
    tx = dict(kind="adminconsent", id=secrets.token_urlsafe(24), tenant=tenant, scopes=scopes,
              client_id=args["client_id"], redirect_uri=args["redirect_uri"], state=args.get("state"))
    state.remember_transaction(tx)
    user = remembered_user()
    if user is None or not can_grant_tenant_consent(user):
        return sign_in_page(tx)
    return admin_consent_step(tx, user)


# Entra roles that may grant tenant-wide consent to delegated permissions ("Grant tenant-wide admin
# consent to an application", prerequisites); `_admin` is a Global Administrator.
CONSENT_ROLES = {"Privileged Role Administrator", "Cloud Application Administrator",
                 "Application Administrator"}


def can_grant_tenant_consent(user):
    return bool(user.get("_admin")) or bool(CONSENT_ROLES & set(user.get("_roles", ())))


def admin_consent_step(tx, user):
    """A user who may not approve apps is told to ask an administrator (the page's button goes
    back to the app with access_denied, AADSTS90094)."""
    tx["user_id"] = user["id"]
    if not can_grant_tenant_consent(user):
        return page_response(pages.admin_approval(
            demo.TENANT_NAME, user=user, client_name=client_of(tx)["name"],
            action=step_url(tx, "admin-approval"), tx=tx["id"],
            other_account=step_url(tx, "other-account")))
    return page_response(pages.admin_consent(
        demo.TENANT_NAME, user=user, client_name=client_of(tx)["name"], scopes=tx["scopes"],
        action=step_url(tx, "admin-consent"), tx=tx["id"]))


@bp.post("/<tenant>/oauth2/v2.0/authorize/admin-consent")
def decide(tenant):
    tx = transaction()
    if tx is None or tx.get("kind") != "adminconsent" or "user_id" not in tx:
        return error_page(9002313)
    sim_state().transactions.pop(tx["id"], None)
    if request.form.get("decision") != "accept":
        return error_redirect(tx, "consent_required", 65004)
    sim_state().tokens.grant_tenant_consent(tx["client_id"], tx["scopes"])
    return respond(tx, {"admin_consent": "True", "tenant": demo.TENANT_ID,
                        "scope": " ".join(f"https://graph.microsoft.com/{s}" for s in tx["scopes"])})
