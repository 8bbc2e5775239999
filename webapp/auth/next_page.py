"""Where to send someone after signing in: only ever a page of this site."""
from urllib.parse import urlsplit

from flask import redirect, request, url_for

from webapp.auth.sessions import complete_sign_in
from webapp.htmx import came_from_htmx
from webapp.security import safe_next_url


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
    """Every way of signing in ends here once it knows who it is: the session starts and the
    browser goes to the page asked for (of this site only) or home. A further step before the
    session starts (a second factor) belongs here."""
    complete_sign_in(user, method, microsoft_account)
    return redirect(safe_next_url(next_url) or url_for("main.home"))
