from flask import render_template

from webapp.orgs.context import admin_required
from flask import Blueprint
from webapp.orgs.context import org_scoped

bp = org_scoped(Blueprint("user_sync", __name__, url_prefix="/o/<int:org_id>/settings/user-sync"))


@bp.route("/")
@admin_required
def index():
    return render_template("user_sync/index.html")
