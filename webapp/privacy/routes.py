"""Data protection pages: the leaver retention setting, and a person's data on request."""
from flask import flash, g, redirect, render_template, request, url_for

from webapp.htmx import is_htmx_request
from webapp.orgs.context import admin_required
from webapp.privacy import retention
from webapp.privacy.blueprint import bp



@bp.app_context_processor
def retention_notice():
    """Manage user sync shows the retention form; schools from before it are asked to choose."""
    return {"leaver_retention": _retention_or_none}


def _retention_or_none():
    organisation = getattr(g, "organisation", None)
    return retention.retention_for(organisation.id) if organisation is not None else None


def _retention_form(error=None, entered=None, saved=False):
    """HTMX swaps the form in place (an error answer too: htmx swaps only 2xx); without
    JavaScript the form is a page of its own, refused input answered 422."""
    template = "privacy/_retention_form.html" if is_htmx_request() else "privacy/retention.html"
    status = 422 if error is not None and not is_htmx_request() else 200
    return render_template(template, retention_settings=retention.retention_for(g.organisation.id),
                           error=error, entered=entered, saved=saved), status


@bp.route("/retention")
@admin_required
def retention_page():
    return _retention_form()


@bp.route("/retention", methods=["POST"])
@admin_required
def save_retention():
    form = request.form
    try:
        retention.save_retention(g.organisation.id, form.get("mode"), form.get("days"))
    except retention.RetentionInvalid as error:
        return _retention_form(error=error,
                               entered={"mode": form.get("mode"), "days": form.get("days", "")})
    if is_htmx_request():
        return _retention_form(saved=True)
    flash("Leaver retention saved. The daily erasure uses it from its next run.", "success")
    return redirect(url_for("user_sync.index"), 303)

