"""Manage user sync: Sync now, progress, review, the synced people, history, and 'why not?'."""
from types import SimpleNamespace

from flask import Response, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from webapp import audit, versions
from webapp.audit import actions
from webapp.downloads import csv_download
from webapp.errors import ServiceError
from webapp.htmx import is_htmx_request, render_page_or_partial
from webapp.orgs.access import admin_required
from webapp.request_input import page_number
from webapp.schedule import services as schedule
from webapp.search import search_from
from webapp.security import safe_next_url
from webapp.user_sync import explain as why, history, people, summary
from webapp.user_sync.blueprint import bp
from webapp.user_sync.engine import lifecycle, queries
from webapp.user_sync.settings import (DEFAULTS as SETTINGS_FIELDS, InvalidSettings,
                                       save_settings, settings_for, settings_version)


def people_args():
    args = request.args
    sort, status = args.get("sort", "name"), args.get("status", "")
    return dict(query=search_from(args).text, status=status if status in people.STATUSES else "",
                sort=sort if sort in people.SORTS else "name", descending=args.get("dir") == "desc")


def people_context():
    """The people table's state comes from the address alone, so Back and Reload keep it."""
    filters, search = people_args(), search_from(request.args)
    counts = people.status_counts(g.organisation.id)
    page = None if search.error else people.list_synced_people(
        g.organisation.id, page=page_number(request.args), counts=counts, **filters)
    return dict(people_page=page, filters=filters, search=search, status_counts=counts,
                sort_labels=people.SORT_LABELS,
                last_run_at=summary.last_seen_reference(g.organisation.id))


def index_page(settings=None, settings_errors=None):
    """settings: what a refused Sync settings form sent (with its version), else the saved."""
    queue_notice = lifecycle.sweep_stale_runs(g.organisation.id)
    top = summary.for_organisation(g.organisation)
    card = schedule.card_context(g.organisation, known=top)
    settings = settings or _saved_settings()
    return render_template("user_sync/index.html", summary=top,
                           settings=settings, settings_errors=settings_errors or {},
                           queue_notice=queue_notice,
                           suggest_schedule=schedule.shows_suggestion(g.organisation.id,
                                                                      card["schedule"]),
                           **card, **people_context())


@bp.route("/")
@admin_required
def index():
    return index_page()


@bp.route("/summary")
@admin_required
def connection_summary():
    """The Connection card alone: the page swaps it in when a run ends, so Last run follows."""
    if not is_htmx_request():
        return redirect(url_for("user_sync.index"))
    return render_template("user_sync/_summary.html", summary=summary.for_organisation(g.organisation))


@bp.route("/people")
@admin_required
def people_table():
    if not is_htmx_request():
        return redirect(url_for("user_sync.index", **request.args))
    response = render_template("user_sync/_people_table.html", **people_context())
    if request.headers.get("HX-Trigger") == "people-table":  # its own refresh after a sync
        return response
    # A new search, filter, sort or page is a new address: Back and Reload come back to it.
    return response, 200, {"HX-Push-Url": url_for("user_sync.index", **people_address_args())}


def people_address_args():
    """The table's state as the page's address keeps it: defaults left out."""
    defaults = {"q": "", "status": "", "sort": "name", "dir": "asc", "page": "1"}
    return {name: value for name, value in request.args.items()
            if name in defaults and value.strip() and value != defaults[name]}


@bp.route("/people.csv")
@admin_required
def export_csv():
    refused = search_from(request.args).error
    if refused:
        return Response(refused, 400, mimetype="text/plain")
    filters = people_args()
    rows = list(people.csv_rows(g.organisation, last_run_at=summary.last_seen_reference(
        g.organisation.id), **filters))
    audit.record(actions.CSV_EXPORTED, g.organisation.id,
                 after={"export": "synced people", **filters}, commit=True)
    # Built whole (about 5 MB at 50,000 people) so the database work ends with the request.
    return csv_download(rows, "synced-people", g.organisation)


def _status_response(run, started=None):
    if is_htmx_request():
        return render_template("user_sync/_sync_status.html", run=run, started=started)
    if started is False:
        flash("A sync is already running for this organisation; showing its progress.", "info")
    return redirect(url_for("user_sync.index", _anchor="sync-live"), 303)


def _start(kind):
    try:
        run, started = lifecycle.start_run(g.organisation, current_user, kind)
    except ServiceError as error:
        if is_htmx_request():
            return render_template("user_sync/_sync_status.html", run=None, error=str(error))
        flash(str(error), "error")
        return redirect(url_for("user_sync.index"), 303)
    return _status_response(run, started)


@bp.route("/sync", methods=["POST"])
@admin_required
def sync_now():
    """A waiting review is replaced by the new sync (lifecycle.queue_manual_syncs)."""
    return _start("sync")


@bp.route("/preview", methods=["POST"])
@admin_required
def preview():
    return _start("preview")


@bp.route("/runs/<int:sync_run_id>/status")
@admin_required
def run_status(sync_run_id):
    """The progress partial; it polls itself while the run is active."""
    queue_notice = lifecycle.sweep_stale_runs(g.organisation.id)
    run = queries.get_run(g.organisation, sync_run_id)
    if not is_htmx_request():
        return redirect(url_for("user_sync.run_detail", sync_run_id=run.id))
    response = render_template("user_sync/_sync_status.html", run=run, queue_notice=queue_notice)
    # The people table and history listen for this to refresh once, when the run ends.
    return (response, 200, {} if run.is_active else {"HX-Trigger": "sync-finished"})


@bp.route("/runs/<int:sync_run_id>/apply", methods=["POST"])
@admin_required
def apply_removals(sync_run_id):
    """Apply removals first asks, naming how many people it suspends; the answer's post (with
    confirmed=yes) applies them. Both steps work with and without JavaScript."""
    try:
        if request.form.get("confirmed") != "yes":
            run = lifecycle.waiting_review(g.organisation, sync_run_id, current_user)
            return render_page_or_partial("user_sync/apply_confirm.html",
                                          "user_sync/_sync_status.html", run=run,
                                          confirm_apply=True)
        run = lifecycle.approve_review(g.organisation, sync_run_id, current_user)
    except ServiceError as error:
        if is_htmx_request():  # the Sync card says what became of the review, and shows it
            return render_template("user_sync/_sync_status.html", error=str(error),
                                   run=queries.get_run(g.organisation, sync_run_id))
        flash(str(error), "error")
        return redirect(url_for("user_sync.index"), 303)
    return _status_response(run)


@bp.route("/runs/<int:sync_run_id>/cancel", methods=["POST"])
@admin_required
def cancel_review(sync_run_id):
    try:
        lifecycle.cancel_review(g.organisation, sync_run_id, current_user)
    except ServiceError as error:
        flash(str(error), "error")
    else:
        flash("Cancelled. Nobody was added, changed or suspended.", "success")
    return redirect(url_for("user_sync.index"), 303)


@bp.route("/history")
@admin_required
def history_page():
    trigger = request.args.get("trigger", "")
    return render_template("user_sync/history.html", trigger=trigger,
                           runs=history.recent_runs(g.organisation.id, trigger, limit=200))


@bp.route("/runs/<int:sync_run_id>")
@admin_required
def run_detail(sync_run_id):
    run = queries.get_run(g.organisation, sync_run_id)
    return render_template("user_sync/run.html", run=run,
                           **history.detail_context(run, request.args))


@bp.route("/runs/<int:sync_run_id>/changes.csv")
@admin_required
def run_changes_csv(sync_run_id):
    run = queries.get_run(g.organisation, sync_run_id)
    audit.record(actions.CSV_EXPORTED, g.organisation.id,
                 after={"export": "changes of a sync run", "run": run.id}, commit=True)
    return csv_download([history.changes_csv_rows(run)], f"sync-{run.id}-changes", g.organisation)


@bp.route("/people/<int:person_id>/exclude", methods=["POST"])
@admin_required
def exclude(person_id):
    person = people.set_excluded(g.organisation, person_id, True)
    flash(f"{person.name_or_email} is excluded from sync.", "success")
    return redirect(safe_next_url(request.form.get("next")) or url_for("user_sync.index"), 303)


@bp.route("/people/<int:person_id>/include", methods=["POST"])
@admin_required
def include(person_id):
    person = people.get_person(g.organisation, person_id)
    name = person.name_or_email
    people.set_excluded(g.organisation, person_id, False)
    flash(f"{name} is included in sync again; the next sync updates them.", "success")
    return redirect(safe_next_url(request.form.get("next")) or url_for("user_sync.index"), 303)


@bp.route("/exclusions", methods=["POST"])
@admin_required
def exclude_microsoft_user():
    form = request.form
    try:
        person = people.exclude_microsoft_user(g.organisation, form.get("microsoft_id"),
                                               form.get("email"), form.get("display_name"))
    except ServiceError as error:
        flash(str(error), "error")
    else:
        flash(f"{person.name_or_email} is excluded from sync.", "success")
    return redirect(url_for("user_sync.index"), 303)


def _saved_settings():
    saved = settings_for(g.organisation.id)
    return SimpleNamespace(**{name: getattr(saved, name) for name in SETTINGS_FIELDS},
                           version=versions.current(settings_version(g.organisation.id)))


@bp.route("/settings", methods=["POST"])
@admin_required
def update_settings():
    typed = SimpleNamespace(include_guests=request.form.get("include_guests") == "1",
                            removal_threshold_percent=request.form.get("removal_threshold_percent"),
                            removal_threshold_minimum=request.form.get("removal_threshold_minimum"),
                            version=versions.posted(request.form))
    try:
        save_settings(g.organisation.id, typed.include_guests, typed.removal_threshold_percent,
                      typed.removal_threshold_minimum, user=current_user,
                      expected_version=typed.version)
    except InvalidSettings as error:
        # The page again with what was typed and each message by its field; nothing saved.
        return index_page(settings=typed, settings_errors=error.errors), 422
    except versions.ChangedSince as error:
        # Saved by someone else since: the settings as they are now, and who changed them.
        return index_page(settings_errors={"version": str(error)}), 409
    flash("Sync settings saved. They apply from the next sync.", "success")
    return redirect(url_for("user_sync.index"), 303)


@bp.route("/why")
@admin_required
def why_not():
    search = search_from(request.args)
    return render_page_or_partial("user_sync/why.html", "user_sync/_why.html", search=search,
                                  query=search.text, answers=why.explain(g.organisation, search.text))
