"""The group picker pages (views of the `microsoft` blueprint, beside the connect views).

One form holds the whole selection: the chosen groups above, one page of the other groups
below. Search and the page buttons post it back to show more groups without losing the
ticks; Save groups saves it; Preview changes runs a preview of it without saving.
"""
import requests
from flask import flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from webapp.errors import ServiceError
from webapp.htmx import is_htmx_request
from webapp.microsoft import groups, selection
from webapp.microsoft.blueprint import bp
from webapp.microsoft.graph import GraphError
from webapp.microsoft.app_credentials import AppCredentialsRefused
from webapp.microsoft.identity import ReconnectNeeded
from webapp.microsoft.models import SYNC_MEMBERS, connection_for_organisation
from webapp.microsoft.services import graph_client_for
from webapp.orgs.context import admin_required
from webapp.request_input import page_number
from webapp.search import search_from
from webapp.user_sync.engine import lifecycle
from webapp.user_sync.engine.selection import MAX_EXCLUDED, MAX_SYNCED
from webapp.user_sync.models import KIND_PREVIEW


def _connection_or_redirect():
    connection = connection_for_organisation(g.organisation)
    if connection is None:
        flash("Connect with Microsoft first; then you can choose groups.", "warning")
    return connection


def picker_context(connection, values, roles):
    """values: the page's query string or the posted form; roles: {group id: role} ticked."""
    search = search_from(values)
    page = page_number(values)
    results, total = ([], 0) if search.error else groups.search_groups(
        connection, search.text, page=page, leave_out=roles)
    pages = max(1, -(-total // groups.SEARCH_LIMIT))
    return dict(connection=connection, snapshot=groups.snapshot_for(connection),
                query=search.text, search=search, results=results, total=total,
                page=min(page, pages), pages=pages, snapshot_size=groups.snapshot_size(connection),
                picked=selection.picked_groups(connection, g.organisation, roles),
                supported_kinds=groups.SUPPORTED_KINDS, group_types_url=groups.GROUP_TYPES_URL,
                max_synced=MAX_SYNCED, max_excluded=MAX_EXCLUDED)


PARTS = {"results": "microsoft/_group_results.html", "choices": "microsoft/_group_choices.html"}


def _render_picker(connection, values, roles, selection_error=None):
    context = picker_context(connection, values, roles)
    context["selection_error"] = selection_error
    if is_htmx_request():
        return render_template(PARTS.get(values.get("part"), "microsoft/_picker.html"), **context)
    return render_template("microsoft/groups.html", **context)


@bp.route("/microsoft/groups")
@admin_required
def groups_page():
    connection = _connection_or_redirect()
    if connection is None:
        return redirect(url_for("microsoft.import_microsoft"))
    return _render_picker(connection, request.args, selection.saved_roles(g.organisation))


@bp.route("/microsoft/groups/refresh", methods=["POST"])
@admin_required
def refresh_groups():
    connection = _connection_or_redirect()
    if connection is None:
        return redirect(url_for("microsoft.import_microsoft"))
    groups.request_snapshot(connection)
    return redirect(url_for("microsoft.groups_page"))


@bp.route("/microsoft/groups", methods=["POST"])
@admin_required
def save_groups():
    """Save groups, Preview changes, or (Search, pages) the picker again with the ticks kept."""
    connection = _connection_or_redirect()
    if connection is None:
        return redirect(url_for("microsoft.import_microsoft"))
    action = request.form.get("action", "save")
    if action not in ("save", "preview"):
        return _render_picker(connection, request.form, _ticked_roles())
    try:
        roles = selection.roles_from_form(request.form)
        client = graph_client_for(connection)
        if action == "preview":
            return _preview(selection.checked_selection(roles, client)[0])
        saved = selection.save_selection(g.organisation, current_user, roles, client)
    except ServiceError as error:
        return _refused(connection, str(error))
    except ReconnectNeeded as error:
        flash(f"Nothing was saved. {error} Reconnect below, then choose your groups again.",
              "error")
        return redirect(url_for("microsoft.import_microsoft")), 303
    except AppCredentialsRefused as error:
        flash(f"Nothing was saved. {error}", "error")
        return redirect(url_for("microsoft.import_microsoft")), 303
    except (GraphError, requests.RequestException) as error:
        return _refused(connection, "Microsoft could not confirm the groups, so nothing was "
                                    f"saved: {error} Try again in a minute, or see Troubleshooting.")
    flash(f"{g.organisation.name} saved its groups. {selection.selection_sentence(saved)}. "
          "Nobody changes until the next sync: press Sync now to start it.", "success")
    return redirect(url_for("microsoft.import_microsoft"))


TICKS_SHOWN = 100  # far above the limits; thousands of ids are a forged post, not a choice


def _ticked_roles():
    """The ticks as posted, even contradictory ones (the admin is still choosing), at most
    TICKS_SHOWN of them: each is a parameter of the picker's queries."""
    try:
        roles = selection.roles_from_form(request.form)
    except ServiceError:
        roles = dict.fromkeys(request.form.getlist("sync"), SYNC_MEMBERS)
    return dict(list(roles.items())[:TICKS_SHOWN])


def _refused(connection, message):
    """The picker again with the admin's ticks and the reason next to them; nothing saved."""
    return _render_picker(connection, request.form, _ticked_roles(), message), 422


def _preview(proposed):
    run, started = lifecycle.start_run(g.organisation, current_user, KIND_PREVIEW,
                                       selection=proposed)
    if started:
        flash(f"Previewing {selection.selection_sentence(proposed)} (not saved). The preview "
              "changes nobody; save the groups when it looks right.", "info")
    else:
        flash("A sync is already running for this organisation; preview when it has finished.",
              "warning")
    return redirect(url_for("user_sync.index", _anchor="sync-live"), 303)
