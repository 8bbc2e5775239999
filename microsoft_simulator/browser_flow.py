"""What /authorize and /adminconsent share while a browser goes through one request: the
transaction, the remembered account, the pages shown and the answers sent back to the app."""
import urllib.parse

from flask import current_app, make_response, redirect, request

from . import demo, pages
from .errors import aadsts_description

REMEMBERED_COOKIE = "sim_remembered"
ACCOUNTS_COOKIE = "sim_accounts"
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


def sim_state():
    return current_app.config["SIM_STATE"]


def page_response(html, status=200):
    response = make_response(html, status)
    response.headers["Cache-Control"] = "no-store"
    return response


def error_page(code, **details):
    return page_response(pages.error(demo.TENANT_NAME, aadsts_description(code, **details)[0]), 400)


def redirect_uri_allowed(client, uri):
    parsed = urllib.parse.urlparse(uri or "")
    host = (parsed.hostname or "").lower()
    if parsed.scheme not in ("http", "https") or parsed.fragment:
        return False
    return host in LOCAL_HOSTS or host.endswith(".localhost") or uri in client["redirect_uris"]


def registered_client(state, tenant, args):
    """(client, None) for a known tenant, client and redirect URI; else (None, error page)."""
    if not state.is_known_tenant(tenant):
        return None, error_page(90002, tenant=tenant)
    client = state.clients.get(args.get("client_id", ""))
    if client is None:
        return None, error_page(700016, client_id=args.get("client_id", ""),
                                tenant=demo.TENANT_ID)
    if args["client_id"] in state.tokens.disabled_apps:  # as the token endpoint (identity.py)
        return None, error_page(7000112, client_id=args["client_id"], client_name=client["name"])
    if not redirect_uri_allowed(client, args.get("redirect_uri")):
        return None, error_page(50011, redirect_uri=args.get("redirect_uri", ""),
                                client_id=args["client_id"])
    return client, None


def respond(tx, fields):
    fields = {**fields, "state": tx["state"]} if tx.get("state") is not None else fields
    if tx.get("response_mode") == "form_post":
        return page_response(pages.form_post(demo.TENANT_NAME, tx["redirect_uri"], fields))
    joiner = "&" if "?" in tx["redirect_uri"] else "?"
    return redirect(tx["redirect_uri"] + joiner + urllib.parse.urlencode(fields), 302)


def error_redirect(tx, error, code, subcode=None, **details):
    """The error back at the app's redirect URI. On the admin consent endpoint it carries
    admin_consent=True and no tenant ("Admin consent on the Microsoft identity platform")."""
    admin = tx.get("kind") == "adminconsent"
    description = aadsts_description(code, "adminconsent" if admin else None,
                                     client_id=tx["client_id"], client_name=client_of(tx)["name"],
                                     **details)[0]
    fields = {"admin_consent": "True"} if admin else {}
    fields.update(error=error, error_description=description)
    if subcode:
        fields["error_subcode"] = subcode
    return respond(tx, fields)


def client_of(tx):
    return sim_state().clients[tx["client_id"]]


def remembered_user():
    user = sim_state().directory.get_user(request.cookies.get(REMEMBERED_COOKIE, ""))
    return user if user and user.get("accountEnabled", True) else None


def step_url(tx, step):
    return f"/{tx['tenant']}/oauth2/v2.0/authorize/{step}"


def sign_in_page(tx, error=None, error_code="", login=None, status=200):
    html = pages.sign_in(demo.TENANT_NAME, action=step_url(tx, "login"), tx=tx["id"], error=error,
                         error_code=error_code, login=login if login is not None else tx.get("login_hint") or "")
    return page_response(html, status)


def transaction():
    return sim_state().transactions.get(request.form.get("tx", ""))
