"""Undo this sync: a preview page (a plain GET that writes nothing, no JavaScript needed) listing
who would be reinstated, suspended again or restored, then the confirming POST."""
from flask import flash, g, redirect, render_template, url_for
from flask_login import current_user

from webapp.errors import ServiceError
from webapp.orgs.access import admin_required
from webapp.schedule.services import schedule_for
from webapp.user_sync.blueprint import bp
from webapp.user_sync.engine import queries, undo_plan
from webapp.user_sync.engine.undo import start_undo

LISTED_AT_MOST = 1000  # per kind of change on the page; the run's CSV has everyone


def preview_context(organisation, run):
    refused = undo_plan.refusal(run)
    plan = None if refused else undo_plan.plan_undo(run)
    return {"run": run, "refused": refused, "plan": plan, "listed_at_most": LISTED_AT_MOST,
            "active": queries.active_run(organisation.id),
            "waiting_review": queries.pending_review(organisation.id),
            "schedule": schedule_for(organisation.id)}


@bp.route("/runs/<int:sync_run_id>/undo")
@admin_required
def undo_preview(sync_run_id):
    run = queries.get_run(g.organisation, sync_run_id)
    return render_template("user_sync/undo.html", **preview_context(g.organisation, run))


@bp.route("/runs/<int:sync_run_id>/undo", methods=["POST"])
@admin_required
def undo_sync(sync_run_id):
    try:
        undo = start_undo(g.organisation, sync_run_id, current_user)
    except ServiceError as error:
        flash(str(error), "error")
        return redirect(url_for("user_sync.undo_preview", sync_run_id=sync_run_id), 303)
    return redirect(url_for("user_sync.run_detail", sync_run_id=undo.id), 303)
