"""Where to send someone after signing in: only ever a page of this site."""
from urllib.parse import urlsplit

from flask import redirect, request, url_for

from webapp.auth.sessions import complete_sign_in, current_session_row
from webapp.htmx import came_from_htmx
from webapp.security import safe_next_url
from webapp.two_step import second_step, status
from webapp.two_step.policy import must_set_up, two_step_protects


def same_site_path(url):
    """The path and query of url if it is a page of this host (not the sign-in page), else None."""
    parts = urlsplit(url or "")
    if parts.netloc != request.host or parts.scheme not in ("http", "https"):
        return None
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    if path.startswith("/login"):
        return None
    return safe_next_url(path)


def page_to_return_to():
    """The page the admin was on: the one an HTMX request came from (htmx names it in
    HX-Current-URL), the one a form was posted from (Referer), or the page asked for."""
    if came_from_htmx():
        return same_site_path(request.headers.get("HX-Current-URL"))
    if request.method != "GET":
        return same_site_path(request.referrer)
    return same_site_path(request.url)


def signed_in_response(user, method, next_url=None, microsoft_account=None):
    """Every way of signing in ends here once it knows who it is. A sign-in two-step protects
    (a password; a Microsoft account of a tenant not the school's), of an account with two-step
    verification, goes on to its second step (the session starts only after it); otherwise the
    session starts now (finish_sign_in). microsoft_account: a Microsoft sign-in's
    webapp.auth.microsoft.MicrosoftAccount."""
    tenant_id = microsoft_account.tenant_id if microsoft_account else None
    if status.is_on(user) and two_step_protects(user, method, tenant_id):
        second_step.begin(user, next_url, method, microsoft_account)
        return redirect(url_for("auth.second_step_page"))
    return finish_sign_in(user, method, next_url, microsoft_account)


def finish_sign_in(user, method, next_url=None, microsoft_account=None, second_step_kind=None):
    """The session starts and the browser goes to the page asked for (of this site only) or
    home; an admin whom a school's policy asks for two-step and who has none goes to set it up."""
    complete_sign_in(user, method, microsoft_account, second_step_kind)
    if must_set_up(user, current_session_row()):
        return redirect(url_for("account_security.two_step_setup"))
    return redirect(safe_next_url(next_url) or url_for("main.home"))
