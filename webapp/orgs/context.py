"""The current organisation: carried in every URL (/o/<org_id>/...), checked on every request.

Asking for an organisation you are not in, or an admin page without the admin role, is a 404
so that nobody can learn which organisations exist.
"""
import re
from functools import wraps

from flask import abort, current_app, g, session
from flask_login import current_user, login_required
from werkzeug.exceptions import HTTPException

from webapp.extensions import db
from webapp.orgs.models import Organisation
from webapp.orgs.services import membership_for, schools_of


def default_organisation_id(user):
    schools = schools_of(user)
    return schools[0].organisation_id if schools else None


def account_schools():
    """The signed-in account's schools (services.schools_of), read once per request."""
    if "account_schools" not in g:
        g.account_schools = schools_of(current_user) if current_user.is_authenticated else []
    return g.account_schools


def _load_organisation(endpoint, values):
    if values is None or "org_id" not in values:
        return
    org_id = values.pop("org_id")
    if not current_user.is_authenticated:
        return  # login_required answers first
    organisation = db.session.get(Organisation, org_id)
    membership = membership_for(current_user, organisation) if organisation else None
    if membership is None or membership.status != "active":
        abort(404)
    g.organisation, g.membership = organisation, membership
    session["org_id"] = organisation.id


def _add_organisation_id(endpoint, values):
    if "org_id" not in values and getattr(g, "organisation", None) is not None:
        values["org_id"] = g.organisation.id


def org_scoped(blueprint):
    """Makes every route of blueprint live under /o/<org_id>/ and require a signed-in member."""
    blueprint.url_value_preprocessor(_load_organisation)
    blueprint.url_defaults(_add_organisation_id)

    @blueprint.before_request
    @login_required
    def _require_member():
        return None

    return blueprint


def admin_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        membership = getattr(g, "membership", None)
        if membership is None or not membership.is_admin:
            abort(404)
        return view(*args, **kwargs)
    wrapped.admin_only = True
    return wrapped


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
