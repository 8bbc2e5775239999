from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

from webapp.extensions import db
from webapp.orgs.access import admin_required, org_scoped
from webapp.orgs.context import default_organisation_id, same_page_in
from webapp.orgs.models import Organisation
from webapp.orgs.services import membership_for
from webapp.request_input import LARGEST_ID, whole_number

bp = Blueprint("main", __name__)
org_bp = org_scoped(Blueprint("org_home", __name__, url_prefix="/o/<int:org_id>"))


@bp.route("/")
@login_required
def home():
    org_id = session.get("org_id") or default_organisation_id(current_user)
    if org_id is None:
        return render_template("main/no_organisation.html")
    return redirect(url_for("org_home.dashboard", org_id=org_id))


@bp.route("/favicon.ico")
def favicon():
    """Where browsers and bookmarks look for the icon whatever a page links to."""
    return current_app.send_static_file("favicon.ico")


@bp.route("/switch-organisation", methods=["POST"])
@login_required
def switch_organisation():
    org_id = whole_number(request.form.get("org_id"), 1, LARGEST_ID)
    organisation = db.session.get(Organisation, org_id) if org_id else None
    membership = membership_for(current_user, organisation) if organisation else None
    if membership is None or membership.status != "active":
        abort(404)
    session["org_id"] = organisation.id
    return redirect(same_page_in(membership, request.form.get("next")))


@org_bp.route("/")
def dashboard():
    return render_template("main/dashboard.html")


@org_bp.route("/settings")
@admin_required
def settings():
    return render_template("main/settings.html")
