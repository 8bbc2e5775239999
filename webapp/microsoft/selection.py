"""A school's selection of groups: read it, check a proposed one with Graph, save it whole.

What the selection means for people (who is in scope) is the sync's rule (diff.decide); this
module only makes sure every chosen group is a real Security or Distribution group of the
school's tenant, and records each saved change in the audit log.
"""
from dataclasses import dataclass

from sqlalchemy import delete, select

from webapp import audit, versions
from webapp.audit import actions
from webapp.clock import as_utc, utcnow
from webapp.errors import ServiceError
from webapp.extensions import db
from webapp.microsoft.groups import (GROUP_ID, SUPPORTED_KINDS, classify, group_from_graph,
                                     remember_member_counts, snapshot_for, snapshot_groups)
from webapp.microsoft.models import (EXCLUDE_MEMBERS, SNAPSHOT_FINISHED, SYNC_MEMBERS,
                                     GroupChoice, group_choices_for)
from webapp.user_sync.engine.selection import ChosenGroup, Selection, limit_problem

ROLE_LABELS = {SYNC_MEMBERS: "Sync members", EXCLUDE_MEMBERS: "Exclude members"}


def saved_selection(organisation):
    return Selection.of_choices(group_choices_for(organisation))


def saved_selections(organisation_ids, among=None):
    """{organisation id: Selection} in one query; a school that chose nothing has an empty one.
    among: a SELECT of the same ids to send instead of the list (hundreds of schools)."""
    found = {organisation_id: [] for organisation_id in organisation_ids}
    for choice in db.session.execute(
            select(GroupChoice.organisation_id, GroupChoice.group_id, GroupChoice.display_name,
                   GroupChoice.role)
            .where(GroupChoice.organisation_id.in_(among if among is not None else list(found)))
            .order_by(GroupChoice.display_name, GroupChoice.id)):
        found[choice.organisation_id].append(choice)
    return {organisation_id: Selection.of_choices(choices)
            for organisation_id, choices in found.items()}


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
    known = snapshot_groups(connection, group_ids)
    saved = {c.group_id: c for c in group_choices_for(organisation)}
    listed_at = _listed_at(connection)
    picked = []
    for group_id in group_ids:
        row = known.get(group_id) or saved.get(group_id)
        if row is not None:
            picked.append(PickedGroup(group_id, row.display_name, row.kind,
                                      group_id in ticks.synced, group_id in ticks.excluded,
                                      getattr(row, "dynamic", False),
                                      getattr(row, "member_count", None),
                                      _gone(row, group_id in known, listed_at)))
    return sorted(picked, key=lambda g: (not g.synced, g.display_name.lower()))


def gone_groups(connection, organisation):
    """The saved groups Microsoft no longer lists (PickedGroups), for Import settings."""
    if connection is None:
        return []
    return [g for g in picked_groups(connection, organisation, saved_ticks(organisation)) if g.gone]


def _listed_at(connection):
    """When Microsoft last gave the whole list of groups (None while none is complete)."""
    snapshot = snapshot_for(connection)
    finished = snapshot is not None and snapshot.status == SNAPSHOT_FINISHED
    return as_utc(snapshot.finished_at) if finished and snapshot.finished_at else None


def _gone(row, listed, listed_at):
    """A saved choice missing from a full list of groups fetched after it was chosen."""
    chosen_at = getattr(row, "chosen_at", None)
    return not listed and None not in (listed_at, chosen_at) and listed_at > as_utc(chosen_at)


def checked_selection(roles, graph_client, names=None):
    """A Selection of the proposed {group id: role}, each group confirmed by Graph. names:
    {group id: name} the picker showed, so a refusal names the group.

    Refuses, naming the reason, a selection over the limits, an id that is not a group of
    this tenant, and a Microsoft 365 group. Checks the limits first: no Graph call for those.
    """
    draft = Selection(tuple(ChosenGroup(gid, gid, role) for gid, role in roles.items()))
    problem = limit_problem(draft)
    if problem:
        raise ServiceError(problem)
    groups, kinds = [], {}
    for group_id, role in roles.items():
        if not GROUP_ID.fullmatch(group_id):
            raise ServiceError("Choose groups from the list. Nothing was saved.")
        found = group_from_graph(graph_client, group_id, (names or {}).get(group_id))
        kind, _ = classify(found)
        if kind not in SUPPORTED_KINDS:
            raise ServiceError(f"“{found.get('displayName')}” is a Microsoft 365 group. Only "
                               "Security and Distribution groups can be synced or excluded. "
                               "Nothing was saved.")
        groups.append(ChosenGroup(found["id"], found.get("displayName") or found["id"], role))
        kinds[found["id"]] = kind
    groups.sort(key=lambda g: (g.role != SYNC_MEMBERS, g.name.lower()))
    return Selection(tuple(groups)), kinds


def selection_version(organisation):
    return versions.of_organisation(organisation.id, "groups")


def save_selection(organisation, user, roles, graph_client, expected_version=None, names=None):
    """Replaces the organisation's whole selection; people change only at the next sync.
    expected_version: the picker's version (versions.ChangedSince if saved since); None for
    callers with no form. names: as for checked_selection."""
    selection, kinds = checked_selection(roles, graph_client, names)
    versions.claim(selection_version(organisation), expected_version, user)
    audit.record(actions.GROUP_CHANGED, organisation.id, actor=user,
                 before=_audit_values(saved_selection(organisation)),
                 after=_audit_values(selection))
    db.session.execute(delete(GroupChoice).where(GroupChoice.organisation_id == organisation.id))
    now = utcnow()
    for group in selection.groups:
        db.session.add(GroupChoice(organisation_id=organisation.id, group_id=group.id,
                                   display_name=group.name, kind=kinds[group.id], role=group.role,
                                   chosen_by_user_id=user.id, chosen_at=now))
    db.session.commit()
    remember_member_counts(organisation, [g.id for g in selection.groups], graph_client)
    return selection


def _audit_values(selection):
    return {"synced_groups": selection.names(selection.synced) or None,
            "excluded_groups": selection.names(selection.excluded) or None}


def choose_group(organisation, user, group_id, graph_client):
    """Saves a one-group selection (the group's members synced)."""
    return save_selection(organisation, user, {(group_id or "").strip(): SYNC_MEMBERS},
                          graph_client)


def ticks_sentence(picked):
    """ "sync Teaching Staff, Support Staff; exclude All Pupils" (PickedGroups, as ticked)"""
    parts = [f"{verb} {', '.join(g.display_name for g in picked if getattr(g, flag))}"
             for verb, flag in (("sync", "synced"), ("exclude", "excluded"))
             if any(getattr(g, flag) for g in picked)]
    return "; ".join(parts)


def selection_sentence(selection):
    """ "Syncing: Teaching Staff, Support Staff; never syncing: All Pupils" """
    text = f"Syncing: {selection.names(selection.synced)}"
    if selection.excluded:
        text += f"; never syncing: {selection.names(selection.excluded)}"
    return text


def same_groups(one, other):
    """Two selections with the same groups doing the same things (order and names aside)."""
    return {(g.id, g.role) for g in one.groups} == {(g.id, g.role) for g in other.groups}


@dataclass
class UnsavedPreview:
    """A preview of ticked groups that are not the saved selection: what it tried, what Sync
    now would use instead, and the saved selection's version (for Save these groups)."""
    tried: Selection
    saved: Selection
    version: str


def unsaved_preview(run, organisation):
    """The UnsavedPreview of a preview run, or None when it previewed the saved groups (then
    "If you sync now" is true of it)."""
    if run is None or run.kind != "preview" or not run.selection:
        return None
    tried, saved = Selection.from_json(run.selection), saved_selection(organisation)
    if same_groups(tried, saved):
        return None
    return UnsavedPreview(tried, saved, versions.current(selection_version(organisation)))
