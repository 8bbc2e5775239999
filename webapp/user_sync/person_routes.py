"""A synced person's page (the people table's names link to it, with what the row has no room
for: Sync this person now, Exclude or Include, Download data held), and Sync this person now:
from that page and from an answer of "Why isn't this person synced?". The POST queues the quick
job; the result partial polls itself until the run has ended, then tells the people table to
refresh (sync-finished)."""
from flask import flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from webapp.errors import ServiceError
from webapp.htmx import is_htmx_request
from webapp.orgs.access import admin_required
from webapp.search import search_from
from webapp.user_sync import people, summary
from webapp.user_sync.blueprint import bp
from webapp.user_sync.engine import lifecycle, queries
from webapp.user_sync.engine.one_person import start_person_sync
from webapp.user_sync.models import KIND_PERSON

PARTIAL = "user_sync/_person_sync.html"


@bp.route("/people/<int:person_id>")
@admin_required
def person_page(person_id):
    return render_template("user_sync/person.html",
                           person=people.get_person(g.organisation, person_id),
                           last_run_at=summary.last_seen_reference(g.organisation.id))


@bp.route("/person-sync", methods=["POST"])
@admin_required
def sync_person():
    asked = request.form.get("person", "")
    try:
        run = start_person_sync(g.organisation, current_user, asked)
    except ServiceError as error:
        return _refused(str(error))
    if is_htmx_request():
        return render_template(PARTIAL, run=run)
    return redirect(url_for("user_sync.run_detail", sync_run_id=run.id), 303)


def _refused(message):
    """HTMX: the message where the result would have shown. A plain form: back to the Why page
    as it was (its question asked again), with the message; nothing queued."""
    if is_htmx_request():
        return render_template(PARTIAL, run=None, error=message)
    flash(message, "error")
    question = search_from(request.form).text
    return redirect(url_for("user_sync.why_not", q=question or None), 303)


@bp.route("/person-sync/<int:sync_run_id>")
@admin_required
def person_sync_status(sync_run_id):
    lifecycle.sweep_stale_runs(g.organisation.id)  # a killed worker's run ends as failed
    run = queries.get_run(g.organisation, sync_run_id)
    if not is_htmx_request() or run.kind != KIND_PERSON:
        return redirect(url_for("user_sync.run_detail", sync_run_id=run.id))
    response = render_template(PARTIAL, run=run)
    return response, 200, ({} if run.is_active else {"HX-Trigger": "sync-finished"})
