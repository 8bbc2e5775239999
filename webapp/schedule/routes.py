"""The Automatic sync card on Manage user sync: Save schedule (HTMX swaps the card)."""
from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from webapp.htmx import is_htmx_request
from webapp.orgs.context import admin_required, org_scoped
from webapp.schedule import services

bp = org_scoped(Blueprint("schedule", __name__,
                          url_prefix="/o/<int:org_id>/settings/user-sync/schedule"))


@bp.route("/", methods=["POST"])
@admin_required
def save():
    form = {"frequency": request.form.get("frequency", ""),
            "time_of_day": request.form.get("time_of_day", ""),
            "time_zone": request.form.get("time_zone")}
    try:
        services.save_schedule(g.organisation, form["frequency"], form["time_of_day"],
                               time_zone=form["time_zone"])
    except services.ScheduleInvalid as error:
        # The form again, with the problem next to its control; nothing was saved.
        context = services.card_context(g.organisation, {error.field: str(error)}, form)
        template = "schedule/_card.html" if is_htmx_request() else "schedule/edit.html"
        return render_template(template, **context), 200 if is_htmx_request() else 422
    if is_htmx_request():
        return render_template("schedule/_card.html", saved=True,
                               **services.card_context(g.organisation))
    flash("Schedule saved.", "success")
    return redirect(url_for("user_sync.index"), 303)


@bp.route("/suggestion", methods=["POST"])
@admin_required
def dismiss_suggestion():
    services.answer_suggestion(g.organisation.id)
    return redirect(url_for("user_sync.index"), 303)
