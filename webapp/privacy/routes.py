"""Data protection pages: the leaver retention setting, and a person's data on request."""
from flask import flash, g, redirect, request, url_for
from flask_login import current_user

from webapp import versions
from webapp.htmx import is_htmx_request, render_page_or_partial
from webapp.orgs.access import admin_required
from webapp.privacy import retention
from webapp.privacy.blueprint import bp



@bp.app_context_processor
def retention_notice():
    """Manage user sync shows the retention form; schools from before it are asked to choose."""
    return {"leaver_retention": _retention_or_none}


def _retention_or_none():
    organisation = getattr(g, "organisation", None)
    if organisation is None:
        return None
    settings = retention.retention_for(organisation.id)
    settings.version = versions.current(retention.retention_version(organisation.id))
    return settings


def _retention_form(error=None, entered=None, saved=False, changed=None, status=200):
    """HTMX swaps the form in place (an error answer too: htmx swaps only 2xx); without
    JavaScript the form is a page of its own, a refusal answered with `status`.
    entered: what a refused form sent (with its version); changed: why the saved choice is
    shown instead (someone saved it since the form was drawn)."""
    return render_page_or_partial("privacy/retention.html", "privacy/_retention_form.html",
                                  page_status=status, retention_settings=_retention_or_none(),
                                  error=error, entered=entered, saved=saved, changed=changed)


@bp.route("/retention")
@admin_required
def retention_page():
    return _retention_form()


@bp.route("/retention", methods=["POST"])
@admin_required
def save_retention():
    form = request.form
    entered = {"mode": form.get("mode"), "days": form.get("days", ""),
               "version": versions.posted(form)}
    try:
        retention.save_retention(g.organisation.id, form.get("mode"), form.get("days"),
                                 user=current_user, expected_version=entered["version"])
    except retention.RetentionInvalid as error:
        return _retention_form(error=error, entered=entered, status=422)
    except versions.ChangedSince as error:
        return _retention_form(changed=str(error), status=409)
    if is_htmx_request():
        return _retention_form(saved=True)
    flash("Leaver retention saved. The hourly erasure uses it from its next run.", "success")
    return redirect(url_for("user_sync.index"), 303)

