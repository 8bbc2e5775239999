"""The browser part of the identity platform: /authorize and /adminconsent.

A "transaction" holds one authorization request while the user moves
through the pages; the remembered-account cookie is what makes a browser
silently reuse the last Microsoft account, as real browsers do.
"""
import hmac
import secrets

from flask import Blueprint, redirect, request

from . import demo, pages
from .adminconsent import admin_consent_step, can_grant_tenant_consent
from .browser_flow import (ACCOUNTS_COOKIE, REMEMBERED_COOKIE, client_of, error_page,
                           error_redirect, page_response, redirect_uri_allowed, registered_client,
                           remembered_user, respond, sign_in_page, sim_state, step_url, transaction)
from .errors import aadsts_description
from .tokens import GRAPH_SCOPES, OIDC_SCOPES, short_scope

bp = Blueprint("signin", __name__)


def _known_accounts():
    ids = [i for i in request.cookies.get(ACCOUNTS_COOKIE, "").split(".") if i]
    users = [sim_state().directory.get_user(i) for i in ids]
    return [u for u in users if u]


def _remember(response, user):
    known = [u["id"] for u in _known_accounts() if u["id"] != user["id"]]
    response.set_cookie(REMEMBERED_COOKIE, user["id"], httponly=True, secure=True, samesite="None")
    response.set_cookie(ACCOUNTS_COOKIE, ".".join([user["id"]] + known), httponly=True,
                        secure=True, samesite="None")
    return response


@bp.get("/<tenant>/oauth2/v2.0/logout")
def logout(tenant):
    """Signs the browser out of every remembered account, as Entra's end_session_endpoint does."""
    target = request.args.get("post_logout_redirect_uri")
    if target and redirect_uri_allowed(next(iter(sim_state().clients.values())), target):
        response = redirect(target, 302)
    else:
        response = page_response(pages.signed_out(demo.TENANT_NAME))
    response.delete_cookie(REMEMBERED_COOKIE, secure=True, httponly=True, samesite="None")
    response.delete_cookie(ACCOUNTS_COOKIE, secure=True, httponly=True, samesite="None")
    return response


@bp.get("/<tenant>/oauth2/v2.0/authorize")
def authorize(tenant):
    state, args = sim_state(), request.args
    client, refusal = registered_client(state, tenant, args)
    if refusal is not None:
        return refusal
    tx = {key: args.get(key) for key in ("client_id", "redirect_uri", "state", "nonce", "prompt",
                                         "login_hint", "code_challenge", "code_challenge_method",
                                         "response_mode")}
    tx.update(tenant=tenant, id=secrets.token_urlsafe(24),
              scopes=[short_scope(s) for s in args.get("scope", "").split() if s])
    unknown = [s for s in tx["scopes"] if s not in GRAPH_SCOPES | OIDC_SCOPES]
    if args.get("response_type") != "code":
        return error_redirect(tx, "unsupported_response_type", 9002313)
    if unknown or not tx["scopes"]:
        return error_redirect(tx, "invalid_scope", 70011, scope=" ".join(unknown))
    state.remember_transaction(tx)
    return _start(tx)


def _start(tx):
    prompt, remembered, hint = tx.get("prompt"), remembered_user(), (tx.get("login_hint") or "").lower()
    hint_matches = remembered and (not hint or hint == remembered["userPrincipalName"].lower())
    if prompt == "none":
        if not hint_matches:
            return error_redirect(tx, "login_required", 50058)
        return _signed_in(tx, remembered)
    if prompt == "login":
        return sign_in_page(tx)
    if prompt == "select_account":
        return _picker_page(tx)
    if hint_matches:
        return _signed_in(tx, remembered)
    return sign_in_page(tx)


def _picker_page(tx):
    html = pages.picker(demo.TENANT_NAME, action=step_url(tx, "pick"), tx=tx["id"], accounts=_known_accounts())
    return page_response(html)


@bp.post("/<tenant>/oauth2/v2.0/authorize/login")
def login(tenant):
    tx = transaction()
    if tx is None:
        return error_page(9002313)
    login_name = request.form.get("login", "").strip()
    user = sim_state().directory.get_user(login_name)
    if user is None:
        code_text = aadsts_description(50034, login=login_name, tenant=demo.TENANT_DOMAIN)[0]
        return sign_in_page(tx, "This username may be incorrect. Make sure you typed it correctly.",
                             code_text, login_name, 200)
    if not hmac.compare_digest(request.form.get("passwd", ""), user.get("_password", demo.PASSWORD)):
        code_text = aadsts_description(50126)[0]
        return sign_in_page(tx, "Your account or password is incorrect.", code_text, login_name)
    response = _signed_in(tx, user)
    return _remember(response, user) if user.get("accountEnabled", True) else response


@bp.post("/<tenant>/oauth2/v2.0/authorize/pick")
def pick(tenant):
    tx = transaction()
    if tx is None:
        return error_page(9002313)
    chosen = request.form.get("account")
    user = next((u for u in _known_accounts() if u["id"] == chosen), None)
    if user is None:
        return sign_in_page(tx)
    return _remember(_signed_in(tx, user), user)


def _signed_in(tx, user):
    """Credentials are settled: check the account, then consent, then issue a code."""
    if not user.get("accountEnabled", True):
        if tx.get("prompt") == "none":
            return error_redirect(tx, "interaction_required", 50057)
        return sign_in_page(tx, "Your account has been locked. Contact your support person.",
                             aadsts_description(50057)[0], user["userPrincipalName"])
    state, tx["user_id"] = sim_state(), user["id"]
    if tx.get("kind") == "adminconsent":
        return admin_consent_step(tx, user)
    graph_scopes = [s for s in tx["scopes"] if s in GRAPH_SCOPES]
    needs_admin = state.tenant.admin_consent_required and state.tokens.needs_admin(tx["client_id"], graph_scopes)
    if needs_admin and not can_grant_tenant_consent(user):
        if tx.get("prompt") == "none":
            return error_redirect(tx, "consent_required", 65001)
        return page_response(pages.admin_approval(
            demo.TENANT_NAME, user=user, client_name=client_of(tx)["name"],
            action=step_url(tx, "admin-approval"), tx=tx["id"],
            other_account=step_url(tx, "other-account")))
    consented = state.tokens.has_consent(user["id"], tx["client_id"], graph_scopes)
    if tx.get("prompt") == "consent" or not consented:
        if tx.get("prompt") == "none":
            return error_redirect(tx, "consent_required", 65001)
        return page_response(pages.consent(
            demo.TENANT_NAME, user=user, client_name=client_of(tx)["name"], scopes=tx["scopes"],
            action=step_url(tx, "consent"), tx=tx["id"], is_admin=bool(user.get("_admin"))))
    return _issue_code(tx, user)


@bp.post("/<tenant>/oauth2/v2.0/authorize/consent")
def consent(tenant):
    tx = transaction()
    if tx is None or "user_id" not in tx:
        return error_page(9002313)
    if request.form.get("decision") != "accept":
        sim_state().transactions.pop(tx["id"], None)
        return error_redirect(tx, "access_denied", 65004, subcode="cancel")
    user = sim_state().directory.get_user(tx["user_id"])
    sim_state().tokens.grant_consent(user["id"], tx["client_id"], tx["scopes"])
    if user.get("_admin") and request.form.get("org_consent"):
        graph_scopes = [s for s in tx["scopes"] if s in GRAPH_SCOPES]
        sim_state().tokens.grant_tenant_consent(tx["client_id"], graph_scopes)
    return _issue_code(tx, user)


@bp.post("/<tenant>/oauth2/v2.0/authorize/other-account")
def other_account(tenant):
    """"Have an admin account? Sign in with that account" on the Need admin approval page."""
    tx = transaction()
    if tx is None:
        return error_page(9002313)
    tx.pop("user_id", None)
    return sign_in_page(tx, login="")


@bp.post("/<tenant>/oauth2/v2.0/authorize/admin-approval")
def admin_approval(tenant):
    tx = transaction()
    if tx is None:
        return error_page(9002313)
    sim_state().transactions.pop(tx["id"], None)
    return error_redirect(tx, "access_denied", 90094)


def _issue_code(tx, user):
    state = sim_state()
    state.transactions.pop(tx["id"], None)
    code = state.tokens.new_code(
        client_id=tx["client_id"], redirect_uri=tx["redirect_uri"], scopes=tx["scopes"],
        nonce=tx.get("nonce"), code_challenge=tx.get("code_challenge"),
        code_challenge_method=tx.get("code_challenge_method") or "plain", user_id=user["id"])
    state.counters["codes_issued"] += 1
    return respond(tx, {"code": code, "session_state": secrets.token_hex(16)})
