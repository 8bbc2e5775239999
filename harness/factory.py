"""Builds test data through the same service functions the product uses."""
import re
from urllib.parse import urlsplit
from types import SimpleNamespace

from webapp.extensions import db
from webapp.orgs.services import add_membership, create_organisation, get_or_create_user

DEFAULT_PASSWORD = "password"


class Factory:
    def __init__(self):
        self._counter = 0

    def _next(self):
        self._counter += 1
        return self._counter

    def organisation(self, name=None, trust=None):
        return create_organisation(name or f"School {self._next()}", trust)

    def user(self, email=None, organisations=(), role="member", password=DEFAULT_PASSWORD,
             name=None, source="manual", status="active"):
        user = get_or_create_user(email or f"person{self._next()}@school.example", name)
        if password:
            user.set_password(password)
        for organisation in organisations:
            membership = add_membership(user, organisation, role=role, source=source)
            membership.status = status
        db.session.commit()
        return user

    def school_with_admin(self, org_name=None, trust="Oak Learning Trust", email=None):
        org = self.organisation(org_name, trust)
        user = self.user(email or f"admin{self._next()}@school.example", [org], role="admin",
                         name="School Admin")
        return SimpleNamespace(org=org, user=user, trust=org.trust)


def csrf_token_from(html):
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def version_from(html):
    """The settings version of the page's (first) form: its hidden `version` field."""
    match = re.search(r'name="version" value="(\d+)"', html)
    assert match, "form has no settings version"
    return match.group(1)


def version_for(html, action):
    """The settings version of the page's form that posts to `action` (a path), as a browser
    would send it; None when that form has none."""
    for form in re.findall(r"<form\b.*?</form>", html, re.S):
        if f'action="{urlsplit(action).path}"' in form.split(">", 1)[0]:
            match = re.search(r'name="version" value="(\d+)"', form)
            return match.group(1) if match else None
    return None


def sign_in(client, email, password=DEFAULT_PASSWORD):
    page = client.get("/login")
    response = client.post("/login", data={"email": email, "password": password,
                                           "csrf_token": csrf_token_from(page.text)})
    assert response.status_code == 302, f"sign-in failed for {email}: {response.status_code}"
    return response


def post_form(client, url, data=None, page_url=None, **kwargs):
    """Posts like a browser would: with the CSRF token from a page."""
    token_page = client.get(page_url or "/", follow_redirects=True)
    form = dict(data or {})
    form.setdefault("csrf_token", csrf_token_from(token_page.text))
    version = version_for(token_page.text, url)
    if version is not None:
        form.setdefault("version", version)
    return client.post(url, data=form, **kwargs)
