"""A school's selection of groups as a run carries it: which groups, and what each does.

No database here. Who the selection brings in is diff.scope_of's rule, applied by diff.decide
for the sync, the preview and the why-not answer alike.
"""
import json
from collections import namedtuple
from dataclasses import dataclass, field

from webapp.microsoft.models import EXCLUDE_MEMBERS as EXCLUDE, SYNC_MEMBERS as SYNC
MAX_SYNCED, MAX_EXCLUDED = 20, 5

ChosenGroup = namedtuple("ChosenGroup", "id name role")


@dataclass(frozen=True)
class Selection:
    groups: tuple  # ChosenGroups, synced and excluded
    # Split once (the Schools page asks hundreds of selections more than once each).
    synced: tuple = field(init=False, repr=False, compare=False)
    excluded: tuple = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "synced", tuple(g for g in self.groups if g.role == SYNC))
        object.__setattr__(self, "excluded", tuple(g for g in self.groups if g.role == EXCLUDE))

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


def gone_words(groups):
    """Why nothing changed when chosen groups (ChosenGroups) no longer exist in Microsoft, named,
    and what to do: an excluded one no longer keeps its members out, so the sync stops."""
    names = ", ".join(f"“{g.name}”" for g in groups)
    many = len(groups) > 1
    what = f"The chosen groups {names} no longer exist" if many else \
        f"The chosen group {names} no longer exists"
    if any(g.role == EXCLUDE for g in groups):
        return (f"{what} in Microsoft (deleted, perhaps), so nobody was changed: without an "
                "excluded group its members could be synced. In Import settings, choose your "
                "groups again: untick it, or exclude the group that now holds those people.")
    return (f"{what} in Microsoft (deleted, perhaps), so nobody was changed. In Import settings, "
            f"choose your groups again: untick {'them' if many else 'it'}, or tick the group "
            "that replaced it.")
