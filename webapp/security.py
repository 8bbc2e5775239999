"""Response headers every page carries, and where a form may send the browser next."""
from urllib.parse import urlsplit

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "form-action 'self' https:",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "object-src 'none'",
])


def safe_next_url(target):
    """Only same-site paths: never an absolute URL, a scheme-relative one or a backslash trick,
    nor one with a control character (urlsplit drops a line break where the redirect's header
    would not: the sign-in then answered 500 after signing the person in)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target \
            or any(ord(character) < 0x20 or ord(character) == 0x7f for character in target):
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def page_came_from():
    """The page of this site the request came from (its Referer), as a path, or None: for an
    error page's "Back to the page you were on"."""
    from flask import request
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc != request.host or referrer.path == request.path:
        return None
    return safe_next_url(referrer.path + (f"?{referrer.query}" if referrer.query else ""))


def add_security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response


def init_security(app):
    app.after_request(add_security_headers)
