"""Which people a school's selection of groups brings into the sync (pure, no database).

A person is in scope when they are a transitive member of at least one synced group and of
no excluded group. `scope_of` is the one place that rule lives: the diff, the why-not answer
and the people table's "Synced through" column all take it from here.
"""
import json
from collections import namedtuple
from dataclasses import dataclass

SYNC, EXCLUDE = "sync", "exclude"  # the same codes as webapp.microsoft.models (a GroupChoice's role)
MAX_SYNCED, MAX_EXCLUDED = 20, 5

ChosenGroup = namedtuple("ChosenGroup", "id name role")
# in_scope: synced; synced_via: the chosen synced groups they are in (nested groups resolved to
# the chosen group holding them), in the selection's order; excluding: the excluded group that
# keeps them out, or None.
Scope = namedtuple("Scope", "in_scope synced_via excluding")


@dataclass(frozen=True)
class Selection:
    groups: tuple  # ChosenGroups, synced and excluded

    @property
    def synced(self):
        return tuple(g for g in self.groups if g.role == SYNC)

    @property
    def excluded(self):
        return tuple(g for g in self.groups if g.role == EXCLUDE)

    def names(self, groups):
        return ", ".join(g.name for g in groups)

    def to_json(self):
        return json.dumps([list(g) for g in self.groups])

    @classmethod
    def from_json(cls, text):
        return cls(tuple(ChosenGroup(*item) for item in json.loads(text)))

    @classmethod
    def of_choices(cls, choices):
        """From GroupChoice rows (or anything with group_id, display_name, role)."""
        return cls(tuple(ChosenGroup(c.group_id, c.display_name, c.role) for c in choices))


def scope_of(user_id, memberships, selection):
    """memberships: {group id: set of the user ids fetched as its transitive members}."""
    synced_via = tuple(g for g in selection.synced if user_id in memberships.get(g.id, ()))
    excluding = next((g for g in selection.excluded if user_id in memberships.get(g.id, ())), None)
    return Scope(bool(synced_via) and excluding is None, synced_via, excluding)


def via_text(scope):
    """What the people table and the CSV show in "Synced through"."""
    return ", ".join(g.name for g in scope.synced_via) or None


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
