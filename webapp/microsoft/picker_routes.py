"""The group picker pages (views of the `microsoft` blueprint, beside the connect views)."""
import requests
from flask import flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from webapp.errors import ServiceError
from webapp.htmx import is_htmx_request
from webapp.microsoft import groups
from webapp.microsoft.blueprint import bp
from webapp.microsoft.graph import GraphError
from webapp.microsoft.identity import ReconnectNeeded
from webapp.microsoft.models import connection_for_organisation, group_choice_for
from webapp.microsoft.services import graph_client_for
from webapp.orgs.context import admin_required
from webapp.search import search_from


def _connection_or_redirect():
    connection = connection_for_organisation(g.organisation)
    if connection is None:
        flash("Connect with Microsoft first; then you can choose a group.", "warning")
    return connection


def picker_context(connection):
    search, choice = search_from(request.args), group_choice_for(g.organisation)
    results, total = ([], 0) if search.error else groups.search_groups(
        connection, search.text, chosen_group_id=choice.group_id if choice else None)
    return dict(connection=connection, snapshot=groups.snapshot_for(connection),
                query=search.text, search=search, results=results, total=total,
                snapshot_size=groups.snapshot_size(connection), choice=choice,
                supported_kinds=groups.SUPPORTED_KINDS, group_types_url=groups.GROUP_TYPES_URL)


@bp.route("/microsoft/groups")
@admin_required
def groups_page():
    connection = _connection_or_redirect()
    if connection is None:
        return redirect(url_for("microsoft.import_microsoft"))
    context = picker_context(connection)
    if is_htmx_request():
        partial = "microsoft/_group_results.html" if request.args.get("part") == "results" \
            else "microsoft/_picker.html"
        return render_template(partial, **context)
    return render_template("microsoft/groups.html", **context)


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
def save_group():
    connection = _connection_or_redirect()
    if connection is None:
        return redirect(url_for("microsoft.import_microsoft"))
    try:
        choice = groups.choose_group(g.organisation, current_user, request.form.get("group_id"),
                                     graph_client_for(connection))
    except ServiceError as error:
        flash(str(error), "error")
        return redirect(url_for("microsoft.groups_page")), 303
    except ReconnectNeeded as error:
        flash(str(error), "error")
        return redirect(url_for("microsoft.import_microsoft")), 303
    except (GraphError, requests.RequestException) as error:
        flash(f"Microsoft could not confirm the group, so nothing was saved: {error} "
              "Try again in a minute, or see Troubleshooting.", "error")
        return redirect(url_for("microsoft.groups_page")), 303
    flash(f"{g.organisation.name} will sync the group “{choice.display_name}”. Press Sync now "
          "to start the first sync.", "success")
    return redirect(url_for("microsoft.import_microsoft"))
