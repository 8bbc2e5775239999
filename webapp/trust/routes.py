"""Settings › Schools: for an admin of two or more schools, every school's sync at a glance
(filter, search, sort, pages, all in the address), Sync now and Apply schedule on the selected
rows (answered in the rows, with or without JavaScript), and Export CSV."""
from functools import wraps

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from flask_login import current_user

from webapp import audit
from webapp.audit import actions as audit_actions
from webapp.clock import utcnow
from webapp.dates import local_time
from webapp.downloads import csv_attachment
from webapp.extensions import db
from webapp.htmx import is_htmx_request, render_page_or_partial
from webapp.orgs.access import admin_required, org_scoped
from webapp.orgs.context import account_schools, administered_school_ids
from webapp.orgs.services import administers_several
from webapp.schedule.services import ScheduleInvalid
from webapp.trust import actions, export, listing, overview, services
from webapp.trust.page import page_context, row_context, schedule_form_from
from webapp.user_sync.engine import lifecycle

bp = org_scoped(Blueprint("trust", __name__, url_prefix="/o/<int:org_id>/settings/schools"))


def several_schools_required(view):
    """The page exists only for someone who administers two or more schools (else 404)."""
    @admin_required
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not administers_several(account_schools()):
            abort(404)
        return view(*args, **kwargs)
    return wrapped


def _rows():
    return overview.school_rows(current_user.id, utcnow(), administered=administered_school_ids())


@bp.route("/")
@several_schools_required
def schools():
    rows = _rows()
    context = page_context(rows, listing.view_from(request.args, rows))
    # A search, filter, sort or page is a new address: Back and Reload come back to it.
    return render_page_or_partial("trust/schools.html", "trust/_schools.html",
                                  partial_headers={"HX-Push-Url": url_for(
                                      "trust.schools", **context["view"].address())}, **context)


def _answer(rows, view, status=200, **context):
    """The whole region for HTMX (200 even for a refusal: htmx swaps only 2xx), else the page."""
    # The rows the page showed stay on it, even those that no longer match the filter.
    context = page_context(rows, view, selected=_posted_selection(),
                           schedule_form=schedule_form_from(request.form),
                           keep=actions.shown_on_page(request.form) or (), **context)
    return render_page_or_partial("trust/schools.html", "trust/_schools.html", page_status=status,
                                  **context)


def _posted_selection():
    return set(actions.posted_ids(request.form)) - {None}


def _act(action):
    rows = _rows()
    view = listing.view_from(request.form, rows)
    try:
        outcome = action(rows, view)
    except actions.Refused as error:
        return _answer(rows, view, 422, refused=str(error))
    except ScheduleInvalid as error:
        return _answer(rows, view, 422, schedule_errors={error.field: str(error)})
    return _answer(_rows(), view, outcome=outcome)


@bp.route("/sync", methods=["POST"])
@several_schools_required
def sync_now():
    return _act(lambda rows, view: services.sync_now(current_user, request.form, view, rows))


@bp.route("/schedule", methods=["POST"])
@several_schools_required
def apply_schedule():
    return _act(lambda rows, view: services.apply_schedule(current_user, request.form, view,
                                                           rows, utcnow()))


@bp.route("/<int:school_id>/row")
@several_schools_required
def school_row(school_id):
    """One row again, while its sync runs (it polls itself until the run ends)."""
    if not is_htmx_request():
        return redirect(url_for("trust.schools"))
    administered = administered_school_ids()
    if school_id not in administered:
        abort(404)
    lifecycle.sweep_stale_runs(school_id)  # a dead worker's run ends here, not "running" for ever
    row, = overview.add_shown_details(overview.school_rows(current_user.id, utcnow(),
                                                            only=school_id, administered=administered))
    selected = {school_id} if str(school_id) in request.args.getlist("school") else set()
    return render_template("trust/_school_row.html", row=row, **row_context(selected))


@bp.route("/schools.csv")
@several_schools_required
def export_csv():
    rows = _rows()
    view = listing.view_from(request.args, rows)
    if view.search.error:
        return view.search.error, 400, {"Content-Type": "text/plain; charset=utf-8"}
    kept = overview.add_shown_details(listing.matching(view, rows))
    audit.record_many(audit_actions.CSV_EXPORTED, [
        {"organisation_id": row.id, "after": {"export": "schools overview"}} for row in kept])
    db.session.commit()
    day = local_time(utcnow(), g.organisation).date().isoformat()
    return csv_attachment([export.csv_text(kept)], f"schools-{day}.csv")
