"""Where to send an admin after signing in: only ever a page of this site."""
from urllib.parse import urlsplit

from flask import request

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
