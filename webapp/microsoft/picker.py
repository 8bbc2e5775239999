"""The group picker's form, shared by its two buttons' views: Save groups (microsoft's
picker_routes) and Preview changes (user_sync's picker_preview_routes).

One form holds the whole selection: the chosen groups above, one page of the other groups
below (Ticks, PickedGroup). A refused form comes back exactly as the admin left it.
"""
from dataclasses import dataclass

import requests
from flask import flash, g, redirect, render_template, request, url_for

from webapp import versions
from webapp.errors import ServiceError
from webapp.htmx import came_from_htmx, htmx_redirect, is_htmx_request
from webapp.microsoft import groups
from webapp.microsoft.app_credentials import AppCredentialsRefused
from webapp.microsoft.graph import GraphError
from webapp.microsoft.identity import ReconnectNeeded
from webapp.microsoft.models import connection_for_organisation
from webapp.microsoft.selection import (EXCLUDE_MEMBERS, MAX_EXCLUDED, MAX_SYNCED, SYNC_MEMBERS,
                                        group_choices_for)
from webapp.microsoft.services import graph_client_for
from webapp.request_input import page_number
from webapp.search import search_from


@dataclass
class PickedGroup:
    """A ticked group as the picker lists it above the search results."""
    group_id: str
    display_name: str
    kind: str
    synced: bool
    excluded: bool
    dynamic: bool = False
    member_count: int = None


TICKS_SHOWN = 100  # far above the limits; thousands of ids are a forged post, not a choice


@dataclass(frozen=True)
class Ticks:
    """The picker's boxes: the groups whose name is ticked (sync their members) and whose
    Exclude box is ticked, kept apart so a refused form shows both, even when they contradict."""
    synced: tuple = ()
    excluded: tuple = ()

    @classmethod
    def from_form(cls, form):
        return cls(_ids(form.getlist("sync")), _ids(form.getlist("exclude")))

    @classmethod
    def of_roles(cls, roles):
        return cls(tuple(g for g, role in roles.items() if role == SYNC_MEMBERS),
                   tuple(g for g, role in roles.items() if role == EXCLUDE_MEMBERS))

    def group_ids(self):
        return tuple(dict.fromkeys(self.synced + self.excluded))

    def shown(self):
        """At most TICKS_SHOWN groups: each is a parameter of the picker's queries."""
        kept = set(self.group_ids()[:TICKS_SHOWN])
        return Ticks(tuple(g for g in self.synced if g in kept),
                     tuple(g for g in self.excluded if g in kept))

    def roles(self):
        """{group id: role}, or ServiceError for a group ticked both ways."""
        if set(self.synced) & set(self.excluded):
            raise ServiceError("A group cannot both sync and exclude its members: choose one "
                               "for each group. Nothing was saved.")
        roles = dict.fromkeys(self.synced, SYNC_MEMBERS)
        roles.update(dict.fromkeys(self.excluded, EXCLUDE_MEMBERS))
        return roles


def _ids(values):
    return tuple(dict.fromkeys(value.strip() for value in values if value.strip()))


def saved_ticks(organisation):
    return Ticks.of_roles({c.group_id: c.role for c in group_choices_for(organisation)})


def picked_groups(connection, organisation, ticks):
    """The ticked groups with names and kinds (from the snapshot, else from the saved
    selection); ids neither knows are left out, they cannot be saved anyway."""
    group_ids = ticks.group_ids()
    known = groups.snapshot_groups(connection, group_ids)
    saved = {c.group_id: c for c in group_choices_for(organisation)}
    picked = []
    for group_id in group_ids:
        row = known.get(group_id) or saved.get(group_id)
        if row is not None:
            picked.append(PickedGroup(group_id, row.display_name, row.kind,
                                      group_id in ticks.synced, group_id in ticks.excluded,
                                      getattr(row, "dynamic", False),
                                      getattr(row, "member_count", None)))
    return sorted(picked, key=lambda g: (not g.synced, g.display_name.lower()))


def ticks_sentence(picked):
    """ "sync Teaching Staff, Support Staff; exclude All Pupils" (PickedGroups, as ticked)"""
    parts = [f"{verb} {', '.join(g.display_name for g in picked if getattr(g, flag))}"
             for verb, flag in (("sync", "synced"), ("exclude", "excluded"))
             if any(getattr(g, flag) for g in picked)]
    return "; ".join(parts)


def connection_or_flash():
    connection = connection_for_organisation(g.organisation)
    if connection is None:
        flash("Connect with Microsoft first; then you can choose groups.", "warning")
    return connection


def leave_for_import_settings():
    """A whole-page visit, also from the picker's own polling (never a page in the picker)."""
    url = url_for("microsoft.import_microsoft")
    return htmx_redirect(url, 200) if came_from_htmx() else redirect(url)


def picker_context(connection, values, ticks, version):
    """values: the page's query string or the posted form (search and page); ticks: the boxes
    to show ticked; version: of the saved selection the page was drawn from."""
    search = search_from(values)
    page = _page_from(values, search)
    results, total = ([], 0) if search.error else groups.search_groups(
        connection, search.text, page=page, leave_out=ticks.group_ids())
    pages = max(1, -(-total // groups.SEARCH_LIMIT))
    return dict(connection=connection, snapshot=groups.snapshot_for(connection),
                query=search.text, search=search, results=results, total=total,
                page=min(page, pages), pages=pages, snapshot_size=groups.snapshot_size(connection),
                picked=picked_groups(connection, g.organisation, ticks),
                version=version, supported_kinds=groups.SUPPORTED_KINDS,
                group_types_url=groups.GROUP_TYPES_URL,
                max_synced=MAX_SYNCED, max_excluded=MAX_EXCLUDED)


def _page_from(values, search):
    """A page button's page; else the page on show when the form was sent (Save groups, a
    refusal), unless the search changed since; else the first."""
    if values.get("page") is None and search.typed == (values.get("shown_q") or "").strip():
        return page_number(values, "shown_page")
    return page_number(values)


PARTS = {"results": "microsoft/_group_results.html", "choices": "microsoft/_group_choices.html"}


def render_picker(connection, values, ticks, version, selection_error=None):
    context = picker_context(connection, values, ticks, version)
    context["selection_error"] = selection_error
    if is_htmx_request():
        return render_template(PARTS.get(values.get("part"), "microsoft/_picker.html"), **context)
    return render_template("microsoft/groups.html", **context)


def posted_version():
    return versions.posted(request.form)


def refused(connection, ticks, message):
    """The picker again exactly as the admin left it (every tick in both columns, the search
    and the page) with the reason next to the ticks; nothing saved."""
    return render_picker(connection, request.form, ticks.shown(), posted_version(),
                         message), 422


def with_checked_ticks(connection, ticks, act):
    """act(roles, graph client) for the posted ticks: (its result, None), or (None, the picker
    refused with the reason) when the ticks or Microsoft's answer about them refuse it.
    versions.ChangedSince is left to the caller (only a save can meet it)."""
    try:
        return act(ticks.roles(), graph_client_for(connection)), None
    except versions.ChangedSince:
        raise
    except ServiceError as error:
        message = str(error)
    except ReconnectNeeded as error:
        message = (f"Microsoft could not confirm the groups, so nothing was saved: {error} "
                   "Reconnect in Import settings, then save again.")
    except AppCredentialsRefused as error:
        message = f"Nothing was saved. {error}"
    except (GraphError, requests.RequestException) as error:
        message = ("Microsoft could not confirm the groups, so nothing was saved: "
                   f"{error} Try again in a minute, or see Troubleshooting.")
    return None, refused(connection, ticks, message)
