"""Who may open an organisation's pages: every route under /o/<org_id>/ needs a signed-in
member of that organisation (org_scoped), an admin page the admin role too (admin_required).

Asking for an organisation you are not in, or an admin page without the admin role, is a 404
so that nobody can learn which organisations exist.
"""
from functools import wraps

from flask import abort, g, session
from flask_login import current_user, login_required

from webapp.extensions import db
from webapp.orgs.models import Organisation
from webapp.orgs.services import membership_for


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
