"""The Automatic sync card on Manage user sync: Save schedule (HTMX swaps the card), and its
Time zone field with every zone (HTMX swaps the field; without JavaScript, a page)."""
from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from webapp import versions

from webapp.htmx import is_htmx_request, render_page_or_partial
from webapp.orgs.access import admin_required, org_scoped
from webapp.schedule import services

bp = org_scoped(Blueprint("schedule", __name__,
                          url_prefix="/o/<int:org_id>/settings/user-sync/schedule"))


@bp.route("/", methods=["POST"])
@admin_required
def save():
    form = {"frequency": request.form.get("frequency", ""),
            "time_of_day": request.form.get("time_of_day", ""),
            "time_zone": request.form.get("time_zone"),
            "version": versions.posted(request.form)}
    try:
        services.save_schedule(g.organisation, form["frequency"], form["time_of_day"],
                               time_zone=form["time_zone"], user=current_user,
                               expected_version=form["version"])
    except services.ScheduleInvalid as error:
        # The form again as sent, with the problem next to its control; nothing was saved.
        return _refused({error.field: str(error)}, form, 422)
    except versions.ChangedSince as error:
        # Saved by someone else since: the schedule as it is now, and who changed it.
        return _refused({"version": str(error)}, None, 409)
    if is_htmx_request():
        return render_template("schedule/_card.html", saved=True,
                               **services.card_context(g.organisation))
    flash("Schedule saved.", "success")
    return redirect(url_for("user_sync.index"), 303)


def _refused(errors, form, status):
    sent = {name: value for name, value in (form or {}).items() if value is not None}
    context = services.card_context(g.organisation, errors, sent)
    return render_page_or_partial("schedule/edit.html", "schedule/_card.html", page_status=status,
                                  **context)


@bp.route("/time-zones")
@admin_required
def time_zones():
    """Every zone, the one the field showed (time_zone) still chosen: the field alone for htmx,
    else the card as a page of its own (its form saves the schedule)."""
    sent = request.args.get("time_zone") or None
    if is_htmx_request():
        context = services.time_zone_field_context(g.organisation, sent, every_zone=True)
        return render_template("schedule/_time_zone_field.html", focus_zone=True, **context)
    form = {"time_zone": sent} if sent else None
    return render_template("schedule/edit.html", focus_zone=True,
                           **services.card_context(g.organisation, form=form, every_zone=True))


@bp.route("/suggestion", methods=["POST"])
@admin_required
def dismiss_suggestion():
    services.answer_suggestion(g.organisation.id)
    return redirect(url_for("user_sync.index"), 303)
