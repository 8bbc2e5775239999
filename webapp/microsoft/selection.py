"""A school's selection of groups, in one place: what is stored (GroupChoice), what a run carries
(Selection of ChosenGroups), the limits, the check of a proposed selection with Graph, the save,
the sentences that name it, and whether the school can sync with it.

What the selection means for people (who is in scope) is the sync's rule (diff.decide); this
module only makes sure every chosen group is a real Security or Distribution group of the
school's tenant, and records each saved change in the audit log. The picker's form (ticks,
the groups listed above the search) is webapp.microsoft.picker.
"""
import json
from collections import namedtuple
from dataclasses import dataclass, field

from sqlalchemy import delete, exists, select

from webapp import audit, versions
from webapp.audit import actions
from webapp.clock import utcnow
from webapp.errors import ServiceError
from webapp.extensions import db
from webapp.microsoft.groups import (GROUP_ID, SUPPORTED_KINDS, classify, group_from_graph,
                                     remember_member_counts)
from webapp.microsoft.models import CONNECTED, RECONNECT_NEEDED
from webapp.sql_lists import one_of

SYNC_MEMBERS, EXCLUDE_MEMBERS = "sync", "exclude"  # what a chosen group does to its members
MAX_SYNCED, MAX_EXCLUDED = 20, 5


class GroupChoice(db.Model):
    """One group of a school's selection: its members are synced, or never synced (role).
    Each organisation of a trust keeps its own selection."""
    __tablename__ = "microsoft_group_choices"
    __table_args__ = (db.UniqueConstraint("organisation_id", "group_id",
                                          name="uq_microsoft_group_choices_organisation_group"),)

    id = db.Column(db.Integer, primary_key=True)
    organisation_id = db.Column(db.Integer, db.ForeignKey("organisations.id", ondelete="CASCADE"),
                                nullable=False)
    group_id = db.Column(db.String(64), nullable=False)
    display_name = db.Column(db.String(512), nullable=False)
    kind = db.Column(db.String(64), nullable=False)
    role = db.Column(db.String(16), nullable=False, default=SYNC_MEMBERS)
    chosen_by_user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"))
    chosen_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)


ChosenGroup = namedtuple("ChosenGroup", "id name role")


@dataclass(frozen=True)
class Selection:
    """The groups as a run carries them (no database): which groups, and what each does."""
    groups: tuple  # ChosenGroups, synced and excluded
    # Split once (the Schools page asks hundreds of selections more than once each).
    synced: tuple = field(init=False, repr=False, compare=False)
    excluded: tuple = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "synced", tuple(g for g in self.groups if g.role == SYNC_MEMBERS))
        object.__setattr__(self, "excluded",
                           tuple(g for g in self.groups if g.role == EXCLUDE_MEMBERS))

    def names(self, groups):
        return ", ".join(g.name for g in groups)

    def to_json(self):
        return json.dumps([list(g) for g in self.groups])

    def run_columns(self):
        """A sync_runs row's record of the groups it fetches (the first synced group and every
        synced group's name, for lists of runs; the whole selection as JSON)."""
        return {"group_id": self.synced[0].id, "group_name": self.names(self.synced)[:512],
                "selection": self.to_json()}

    @classmethod
    def from_json(cls, text):
        return cls(tuple(ChosenGroup(*item) for item in json.loads(text)))

    @classmethod
    def of_choices(cls, choices):
        """From GroupChoice rows (or anything with group_id, display_name, role)."""
        return cls(tuple(ChosenGroup(c.group_id, c.display_name, c.role) for c in choices))


def limit_problem(selection):
    """The sentence that refuses a selection over the limits, or None."""
    synced, excluded = len(selection.synced), len(selection.excluded)
    if synced == 0:
        return "Choose at least one group whose members are synced."
    if synced > MAX_SYNCED:
        return (f"You chose {synced} groups to sync; at most {MAX_SYNCED} can be synced. "
                "Untick some, or sync a group that contains them. Nothing was saved.")
    if excluded > MAX_EXCLUDED:
        return (f"You chose {excluded} groups to exclude; at most {MAX_EXCLUDED} can be excluded. "
                "Nothing was saved.")
    return None


def group_choices_for(organisation):
    """The organisation's chosen groups (synced and excluded), names A-Z."""
    return group_choices_of([organisation.id])


def group_choices_of(organisation_ids):
    """The chosen groups of these organisations (the schedule's tick asks for many at once)."""
    return db.session.scalars(
        select(GroupChoice).where(one_of(GroupChoice.organisation_id, organisation_ids))
        .order_by(GroupChoice.display_name, GroupChoice.id)).all()


def saved_selection(organisation):
    return Selection.of_choices(group_choices_for(organisation))


def saved_selections(organisation_ids):
    """{organisation id: Selection} in one query; a school that chose nothing has an empty one."""
    found = {organisation_id: [] for organisation_id in organisation_ids}
    # By position, not attribute (a Row's attributes are slow over hundreds of schools).
    for organisation_id, *group in db.session.execute(
            select(GroupChoice.organisation_id, GroupChoice.group_id, GroupChoice.display_name,
                   GroupChoice.role)
            .where(one_of(GroupChoice.organisation_id, found))
            .order_by(GroupChoice.display_name, GroupChoice.id)):
        found[organisation_id].append(ChosenGroup(*group))
    return {organisation_id: Selection(tuple(groups)) for organisation_id, groups in found.items()}


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


def selection_sentence(selection):
    """ "Syncing: Teaching Staff, Support Staff; never syncing: All Pupils" """
    text = f"Syncing: {selection.names(selection.synced)}"
    if selection.excluded:
        text += f"; never syncing: {selection.names(selection.excluded)}"
    return text


@dataclass(frozen=True)
class GoneWords:
    """Chosen groups Microsoft no longer has, in words for school staff: what happened (which
    groups, and what the sync does about it) and the steps, a clause each place leads into."""
    happened: str
    steps: str  # "untick it, …, and press Save groups": done in the group picker

    def to_do(self, where=None):
        """The steps as a sentence; where: the place to change the groups in, for words read
        away from it (a sync's reason says "Import settings")."""
        if where:
            return f"In {where}, change the groups: {self.steps}."
        return f"{self.steps[0].upper()}{self.steps[1:]}."

    def said(self, where=None):
        return f"{self.happened} {self.to_do(where)}"


def gone_words(groups):
    """The one wording of chosen groups (ChosenGroups) missing from Microsoft. Any of them fails
    the sync before it changes anyone (it cannot tell who a missing group holds), and for an
    excluded group that is the point: the people it kept out are not synced."""
    names = quoted_names(groups)
    one = len(groups) == 1
    happened = (f"The chosen group {names} no longer exists" if one else
                f"The chosen groups {names} no longer exist") + " in Microsoft (deleted, perhaps)"
    it = "it" if one else "them"
    excluded = [g for g in groups if g.role == EXCLUDE_MEMBERS]
    if not excluded:
        return GoneWords(f"{happened}, so syncs stop.",
                         f"untick {it}, tick the group that replaced {it} (if there is one) and "
                         "press Save groups")
    keeper = "it" if one else quoted_names(excluded)
    return GoneWords(f"{happened}, so {keeper} can no longer keep "
                     f"{'its' if len(excluded) == 1 else 'their'} members out of the sync. Syncs "
                     "stop rather than sync them.",
                     f"untick {it}, exclude the group that now holds those people, and press "
                     "Save groups")


def quoted_names(groups):
    """“Staff”, “Governors”: groups named as every sentence about them names them."""
    return ", ".join(f"“{g.name}”" for g in groups)


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


# A school's state codes (templates compare these) and the words shown for them.
NOT_CONNECTED, NO_GROUP = "not_connected", "no_group"
STATE_LABELS = {NOT_CONNECTED: "Not connected", RECONNECT_NEEDED: "Reconnect needed",
                NO_GROUP: "No group chosen", CONNECTED: "Connected"}
NOT_SYNCABLE = "Connect to Microsoft and choose the groups to sync in Import settings first."


def connection_state(connection, has_synced_group):
    """The school's state code: whether it can sync now (CONNECTED), else what stops it.
    has_synced_group: bool(selection.synced), or has_synced_group_of for many schools."""
    if connection is None:
        return NOT_CONNECTED
    if connection.needs_reconnect:
        return RECONNECT_NEEDED
    return CONNECTED if has_synced_group else NO_GROUP


def has_synced_group_of(organisation_id):
    """SQL: whether the school's saved selection has a synced group (Selection.synced is not
    empty), for many schools in one statement without reading their groups."""
    return exists().where(GroupChoice.organisation_id == organisation_id,
                          GroupChoice.role == SYNC_MEMBERS)


def refuse_unless_syncable(connection, selection):
    """ServiceError unless a run may be queued: a connection (one that needs reconnecting
    still queues, and the run says so) and at least one synced group."""
    if connection is None or not selection.synced:
        raise ServiceError(NOT_SYNCABLE)
