"""Settings › Manage user sync › Troubleshooting: every check with its fix, in plain words."""
from flask import Blueprint, abort, g, redirect, render_template, url_for
from flask_login import current_user

from webapp.htmx import is_htmx_request, render_page_or_partial
from webapp.microsoft.models import connection_for_organisation
from webapp.microsoft.admin_consent import consent_link
from webapp.microsoft.identity import callback_url
from webapp.microsoft.services import recent_attempts_for
from webapp.orgs.access import admin_required, org_scoped
from webapp.troubleshooting import checks, remote_checks

bp = org_scoped(Blueprint("troubleshooting", __name__,
                          url_prefix="/o/<int:org_id>/settings/user-sync/troubleshooting"))


def _page_context(run_id=None):
    return dict(checks=checks.local_checks(g.organisation, current_user),
                connection=connection_for_organisation(g.organisation),
                attempts=recent_attempts_for(g.organisation),
                run=remote_checks.load(run_id, g.organisation, current_user) if run_id else None,
                run_id=run_id, consent_url=consent_link(g.organisation, callback_url()))


@bp.route("/")
@admin_required
def index():
    return render_template("troubleshooting/index.html", **_page_context())


@bp.route("/microsoft-checks", methods=["POST"])
@admin_required
def start_remote_checks():
    if connection_for_organisation(g.organisation) is None:  # disconnected in another tab
        if is_htmx_request():  # the card says the checks need a connection
            return render_template("troubleshooting/_remote_checks.html", **_page_context())
        return redirect(url_for("troubleshooting.index"))
    run_id = remote_checks.start(g.organisation, current_user)
    if is_htmx_request():
        return render_template("troubleshooting/_remote_checks.html", **_page_context(run_id))
    return redirect(url_for("troubleshooting.results", run_id=run_id), 303)


@bp.route("/microsoft-checks/<run_id>")
@admin_required
def results(run_id):
    context = _page_context(run_id)
    if context["run"] is None:
        abort(404)
    return render_page_or_partial("troubleshooting/index.html",
                                  "troubleshooting/_remote_checks.html", **context)
