"""The current organisation: carried in every URL (/o/<org_id>/...) and checked on every
request by webapp.orgs.access; here, the account's schools and the same page in another one.
"""
import re

from flask import current_app, g
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from webapp.orgs.services import administered_of, schools_of


def default_organisation_id(user):
    schools = schools_of(user)
    return schools[0].organisation_id if schools else None


def account_schools():
    """The signed-in account's schools (services.schools_of), read once per request."""
    if "account_schools" not in g:
        g.account_schools = schools_of(current_user) if current_user.is_authenticated else []
    return g.account_schools


def administered_school_ids():
    """The ids of the signed-in account's schools it is an active admin of (from
    account_schools: no query of their own)."""
    return administered_of(account_schools())


def same_page_in(membership, path):
    """The page at `path` (a page of another organisation) in membership's organisation: the
    same page where it exists there and the membership may open it, else the nearest page above
    it (a run or a person belongs to one school only), else the organisation's home."""
    prefix = f"/o/{membership.organisation_id}/"
    if _ORG_PAGE.match(path or ""):
        segments = _ORG_PAGE.sub("", path.split("?", 1)[0]).strip("/").split("/")
        adapter = current_app.url_map.bind("localhost")
        while segments and segments[0]:
            candidate = prefix + "/".join(segments)
            for url in (candidate, candidate + "/"):
                if _opens_for(adapter, url, membership):
                    return url
            segments.pop()
    return prefix


_ORG_PAGE = re.compile(r"^/o/\d+/")


def _opens_for(adapter, url, membership):
    try:
        endpoint, args = adapter.match(url, method="GET")
    except HTTPException:  # not found, another method, or only a redirect to the slash form
        return False
    view = current_app.view_functions[endpoint]
    return set(args) == {"org_id"} and (membership.is_admin or not getattr(view, "admin_only", False))
