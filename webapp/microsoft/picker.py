"""The group picker's form, shared by its two buttons' views: Save groups (picker_routes here)
and Preview changes (the sync's picker preview view: a preview is a run).

One form holds the whole selection: the chosen groups above, one page of the other groups
below (Ticks, PickedGroup). A refused form comes back exactly as the admin left it. Every tick
posts the form, so a request reads the saved choices and the snapshot once (Stored) and hands
them to everything that draws the picker.
"""
from collections import namedtuple
from dataclasses import dataclass

import requests
from flask import flash, g, redirect, request, url_for

from webapp import versions
from webapp.clock import as_utc
from webapp.errors import ServiceError
from webapp.htmx import came_from_htmx, htmx_redirect, render_page_or_partial
from webapp.microsoft import groups
from webapp.microsoft.app_credentials import AppCredentialsRefused
from webapp.microsoft.graph import GraphError
from webapp.microsoft.identity import ReconnectNeeded
from webapp.microsoft.models import SNAPSHOT_FINISHED, connection_for_organisation
from webapp.microsoft.selection import (EXCLUDE_MEMBERS, MAX_EXCLUDED, MAX_SYNCED, SYNC_MEMBERS,
                                        ChosenGroup, Selection, group_choices_for)
from webapp.microsoft.services import graph_client_for
from webapp.microsoft.tokens import TokenCacheUnreadable
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
    gone: bool = False  # chosen, and not among the groups Microsoft listed since

    def chosen(self):
        """As a ChosenGroup in the role it is ticked for (what selection.gone_words names)."""
        return ChosenGroup(self.group_id, self.display_name,
                           EXCLUDE_MEMBERS if self.excluded else SYNC_MEMBERS)


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


SavedChoice = namedtuple("SavedChoice", "group_id display_name kind role chosen_at")


@dataclass(frozen=True)
class Stored:
    """What the picker reads of the database, once a request: the connection, the school's saved
    choices (SavedChoices: plain values, as a Microsoft call may commit and expire rows) and the
    connection's group snapshot (GroupSnapshot or None), with when it last listed every group."""
    connection: object
    choices: tuple
    snapshot: object
    listed_at: object  # None while no complete list was fetched

    @classmethod
    def load(cls, connection, organisation):
        choices = tuple(SavedChoice(c.group_id, c.display_name, c.kind, c.role, c.chosen_at)
                        for c in group_choices_for(organisation))
        snapshot = groups.snapshot_for(connection) if connection is not None else None
        return cls(connection, choices, snapshot, _listed_at(snapshot))

    def ticks(self):
        """The saved choices as the picker's boxes."""
        return Ticks.of_roles({c.group_id: c.role for c in self.choices})

    def selection(self):
        return Selection.of_choices(self.choices)


def _listed_at(snapshot):
    """When Microsoft last gave the whole list of groups (None while none is complete)."""
    finished = snapshot is not None and snapshot.status == SNAPSHOT_FINISHED
    return as_utc(snapshot.finished_at) if finished and snapshot.finished_at else None


def picked_groups(stored, ticks):
    """The ticked groups with names and kinds (from the snapshot, else from the saved
    selection); ids neither knows are left out, they cannot be saved anyway."""
    group_ids = ticks.group_ids()
    known = groups.snapshot_groups(stored.connection, group_ids)
    saved = {c.group_id: c for c in stored.choices}
    picked = []
    for group_id in group_ids:
        row = known.get(group_id) or saved.get(group_id)
        if row is not None:
            picked.append(PickedGroup(group_id, row.display_name, row.kind,
                                      group_id in ticks.synced, group_id in ticks.excluded,
                                      getattr(row, "dynamic", False),
                                      getattr(row, "member_count", None),
                                      _gone(row, group_id in known, stored.listed_at)))
    return sorted(picked, key=lambda g: (not g.synced, g.display_name.lower()))


def gone_groups(stored):
    """The saved groups Microsoft no longer lists (PickedGroups), for Import settings."""
    if stored.listed_at is None:  # no complete list (or no connection): none is known gone
        return []
    return [g for g in picked_groups(stored, stored.ticks()) if g.gone]


def _gone(row, listed, listed_at):
    """A saved choice missing from a full list of groups fetched after it was chosen."""
    chosen_at = getattr(row, "chosen_at", None)
    return not listed and None not in (listed_at, chosen_at) and listed_at > as_utc(chosen_at)


def picked_names(stored, ticks):
    """{group id: name} of the ticked groups the picker showed, so a refusal names the group."""
    return {group.group_id: group.display_name for group in picked_groups(stored, ticks.shown())}


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


def stored_or_flash():
    """The school's Stored for drawing the picker, or None (flashed: connect first)."""
    connection = connection_or_flash()
    return None if connection is None else Stored.load(connection, g.organisation)


def leave_for_import_settings():
    """A whole-page visit, also from the picker's own polling (never a page in the picker)."""
    url = url_for("microsoft.import_microsoft")
    return htmx_redirect(url, 200) if came_from_htmx() else redirect(url)


def ticks_to_show(args, stored):
    """The saved ticks, or those in the address: a preview's "Back to the groups with these
    ticks" brings back the ticks it previewed, not the saved ones."""
    if "sync" in args or "exclude" in args:
        return Ticks.from_form(args).shown()
    return stored.ticks()


# Show more adds to the list (with JavaScript) up to this many pages; past them it pages.
MAX_PAGES_LISTED = 20


def picker_context(stored, values, ticks, version):
    """stored: this request's Stored; values: the page's query string or the posted form (search
    and page); ticks: the boxes to show ticked; version: of the saved selection the page was
    drawn from."""
    connection = stored.connection
    search = search_from(values)
    through = _through_from(values, search)
    page = through or _page_from(values, search)
    results, total = ([], 0) if search.error else groups.search_groups(
        connection, search.text, limit=groups.SEARCH_LIMIT * (through or 1),
        page=1 if through else page, leave_out=ticks.group_ids())
    pages = max(1, -(-total // groups.SEARCH_LIMIT))
    return dict(connection=connection, snapshot=stored.snapshot,
                query=search.text, search=search, results=results, total=total,
                page=min(page, pages), pages=pages, snapshot_size=groups.snapshot_size(connection),
                through=through, max_pages_listed=MAX_PAGES_LISTED,
                first_new=_first_new(values, through),
                picked=picked_groups(stored, ticks),
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


def render_picker(stored, values, ticks, version, selection_error=None):
    context = picker_context(stored, values, ticks, version)
    context["selection_error"] = selection_error
    return render_page_or_partial("microsoft/groups.html",
                                  PARTS.get(values.get("part"), "microsoft/_picker.html"), **context)


def posted_version():
    return versions.posted(request.form)


def refused(stored, ticks, message):
    """The picker again exactly as the admin left it (every tick in both columns, the search
    and the page) with the reason next to the ticks; nothing saved."""
    return render_picker(stored, request.form, ticks.shown(), posted_version(), message), 422


def with_checked_ticks(stored, ticks, act):
    """act(roles, graph client, names) for the posted ticks (names: picked_names, so a refusal
    names the group): (its result, None), or (None, the picker refused with the reason) when
    the ticks or Microsoft's answer about them refuse it. versions.ChangedSince is left to the
    caller (only a save can meet it)."""
    try:
        return act(ticks.roles(), graph_client_for(stored.connection),
                   picked_names(stored, ticks)), None
    except versions.ChangedSince:
        raise
    except ServiceError as error:
        message = str(error)
    except (ReconnectNeeded, TokenCacheUnreadable) as error:
        message = (f"Microsoft could not confirm the groups, so nothing was saved: {error} "
                   "Reconnect in Import settings, then save again.")
    except AppCredentialsRefused as error:
        message = f"Nothing was saved. {error}"
    except (GraphError, ConnectionError, requests.RequestException) as error:
        message = ("Microsoft could not confirm the groups, so nothing was saved: "
                   f"{error} Try again in a minute, or see Troubleshooting.")
    return None, refused(stored, ticks, message)
