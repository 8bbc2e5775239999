"""The group picker pages (views of the `microsoft` blueprint, beside the connect views).

One form holds the whole selection: the chosen groups above, one page of the other groups
below. Search and the page buttons post it back to show more groups without losing the
ticks; Save groups saves it; Preview changes runs a preview of it without saving.
"""
import requests
from flask import flash, g, redirect, request, url_for
from flask_login import current_user

from webapp import versions
from webapp.errors import ServiceError
from webapp.htmx import came_from_htmx, htmx_redirect, render_page_or_partial
from webapp.microsoft import groups, selection
from webapp.microsoft.blueprint import bp
from webapp.microsoft.graph import GraphError
from webapp.microsoft.app_credentials import AppCredentialsRefused
from webapp.microsoft.identity import ReconnectNeeded
from webapp.microsoft.models import connection_for_organisation
from webapp.microsoft.services import graph_client_for
from webapp.orgs.access import admin_required
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


# Show more adds to the list (with JavaScript) up to this many pages; past them it pages.
MAX_PAGES_LISTED = 20


def picker_context(connection, values, ticks, version):
    """values: the page's query string or the posted form (search and page); ticks: the boxes
    to show ticked; version: of the saved selection the page was drawn from."""
    search = search_from(values)
    through = _through_from(values, search)
    page = through or _page_from(values, search)
    results, total = ([], 0) if search.error else groups.search_groups(
        connection, search.text, limit=groups.SEARCH_LIMIT * (through or 1),
        page=1 if through else page, leave_out=ticks.group_ids())
    pages = max(1, -(-total // groups.SEARCH_LIMIT))
    return dict(connection=connection, snapshot=groups.snapshot_for(connection),
                query=search.text, search=search, results=results, total=total,
                page=min(page, pages), pages=pages, snapshot_size=groups.snapshot_size(connection),
                through=through, max_pages_listed=MAX_PAGES_LISTED,
                first_new=_first_new(values, through),
                picked=selection.picked_groups(connection, g.organisation, ticks),
                version=version, supported_kinds=groups.SUPPORTED_KINDS,
                group_types_url=groups.GROUP_TYPES_URL,
                max_synced=MAX_SYNCED, max_excluded=MAX_EXCLUDED)


def _through_from(values, search):
    """Pages 1 to N listed as one list: N from Show more (with JavaScript, "through"), else the
    N on show when the form was sent (a tick, a refusal), unless the search changed since; None
    when one page is listed (a page button without JavaScript, or the first render)."""
    if values.get("through") is not None:
        return min(page_number(values, "through"), MAX_PAGES_LISTED)
    if values.get("page") is None and values.get("shown_through") is not None and \
            search.typed == (values.get("shown_q") or "").strip():
        return min(page_number(values, "shown_through"), MAX_PAGES_LISTED)
    return None


def _first_new(values, through):
    """After Show more, the position of the first group it added (keyboard focus goes there)."""
    return (through - 1) * groups.SEARCH_LIMIT if values.get("through") and through else None


def _page_from(values, search):
    """A page button's page; else the page on show when the form was sent (Save groups, a
    refusal), unless the search changed since; else the first."""
    if values.get("page") is None and search.typed == (values.get("shown_q") or "").strip():
        return page_number(values, "shown_page")
    return page_number(values)


PARTS = {"results": "microsoft/_group_results.html", "choices": "microsoft/_group_choices.html"}


def _render_picker(connection, values, ticks, version, selection_error=None):
    context = picker_context(connection, values, ticks, version)
    context["selection_error"] = selection_error
    return render_page_or_partial("microsoft/groups.html",
                                  PARTS.get(values.get("part"), "microsoft/_picker.html"), **context)


@bp.route("/microsoft/groups")
@admin_required
def groups_page():
    connection = _connection_or_redirect()
    if connection is None:
        return _leave_for_import_settings()
    return _render_picker(connection, request.args, _ticks_to_show(request.args),
                          versions.current(selection.selection_version(g.organisation)))


def _ticks_to_show(args):
    """The saved ticks, or those in the address: a preview's "Back to the groups with these
    ticks" brings back the ticks it previewed, not the saved ones."""
    if "sync" in args or "exclude" in args:
        return selection.Ticks.from_form(args).shown()
    return selection.saved_ticks(g.organisation)


def _leave_for_import_settings():
    """A whole-page visit, also from the picker's own polling (never a page in the picker)."""
    url = url_for("microsoft.import_microsoft")
    return htmx_redirect(url, 200) if came_from_htmx() else redirect(url)


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
        return _leave_for_import_settings()
    action = request.form.get("action", "save")
    ticks = selection.Ticks.from_form(request.form)
    if action not in ("save", "preview"):
        return _render_picker(connection, request.form, ticks.shown(), _posted_version())
    try:
        roles = ticks.roles()
        client = graph_client_for(connection)
        names = {group.group_id: group.display_name
                 for group in selection.picked_groups(connection, g.organisation, ticks.shown())}
        if action == "preview":
            return _preview(selection.checked_selection(roles, client, names)[0])
        saved = selection.save_selection(g.organisation, current_user, roles, client,
                                         expected_version=_posted_version(), names=names)
    except versions.ChangedSince as error:
        return _changed_since(connection, ticks, str(error))
    except ServiceError as error:
        return _refused(connection, ticks, str(error))
    except ReconnectNeeded as error:
        return _refused(connection, ticks, f"Microsoft could not confirm the groups, so nothing "
                                           f"was saved: {error} Reconnect in Import settings, "
                                           "then save again.")
    except AppCredentialsRefused as error:
        return _refused(connection, ticks, f"Nothing was saved. {error}")
    except (GraphError, requests.RequestException) as error:
        return _refused(connection, ticks, "Microsoft could not confirm the groups, so nothing "
                                           f"was saved: {error} Try again in a minute, or see "
                                           "Troubleshooting.")
    flash(f"{g.organisation.name} saved its groups. {selection.selection_sentence(saved)}. "
          "Nobody changes until the next sync: press Sync now to start it.", "success")
    return redirect(url_for("microsoft.import_microsoft"))


def _posted_version():
    return versions.posted(request.form)


def _refused(connection, ticks, message):
    """The picker again exactly as the admin left it (every tick in both columns, the search
    and the page) with the reason next to the ticks; nothing saved."""
    return _render_picker(connection, request.form, ticks.shown(), _posted_version(),
                          message), 422


def _changed_since(connection, ticks, message):
    """Someone saved the groups since this page was drawn: the picker shows the selection as
    it is now (and a version to save over it), and says which ticks were not saved."""
    tried = selection.picked_groups(connection, g.organisation, ticks.shown())
    if tried:
        message += " Your ticks were: " + selection.ticks_sentence(tried) + "."
    return _render_picker(connection, request.form, selection.saved_ticks(g.organisation),
                          versions.current(selection.selection_version(g.organisation)),
                          message), 409


def _preview(proposed):
    run, started = lifecycle.start_run(g.organisation, current_user, KIND_PREVIEW,
                                       selection=proposed)
    if started and selection.same_groups(proposed, selection.saved_selection(g.organisation)):
        flash(f"Previewing the saved groups ({selection.selection_sentence(proposed)}). The "
              "preview changes nobody.", "info")
    elif started:
        flash(f"Previewing {selection.selection_sentence(proposed)} (not saved). The preview "
              "changes nobody; save the groups when it looks right.", "info")
    else:
        flash("A sync is already running for this organisation; preview when it has finished.",
              "warning")
    return redirect(url_for("user_sync.index", _anchor="sync-live"), 303)
