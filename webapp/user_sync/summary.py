"""The top of Manage user sync: the connection, the groups, the state and the last run."""
from dataclasses import dataclass

from webapp.microsoft.models import CONNECTED, connection_for_organisation
from webapp.microsoft.selection import (STATE_LABELS, connection_state, saved_selection,
                                        selection_sentence)
from webapp.user_sync.engine import queries
from webapp.user_sync.engine.fleet import facts_of


class SyncState:
    """What a school's state code and selection say, for anything with .state and .selection:
    the card at the top of Manage user sync (Summary) and each row of Settings › Schools."""

    @property
    def can_sync(self):
        return self.state == CONNECTED

    @property
    def state_label(self):
        return STATE_LABELS[self.state]

    @property
    def groups_text(self):
        """ "Syncing: Teaching Staff, Support Staff; never syncing: All Pupils" """
        return selection_sentence(self.selection) if self.selection.synced else ""


@dataclass
class Summary(SyncState):
    connection: object
    selection: object  # microsoft.selection.Selection
    state: str
    latest: object
    active: object
    review: object
    failing_since: object = None  # the Schools page's "Failing since" (engine.fleet's rule)


def for_organisation(organisation):
    connection = connection_for_organisation(organisation)
    selection = saved_selection(organisation)
    return Summary(connection=connection, selection=selection,
                   state=connection_state(connection, bool(selection.synced)),
                   # An undo shows here too: its outcome says automatic sync is paused.
                   latest=queries.latest_run(organisation.id, kinds=("sync", "preview", "undo")),
                   active=queries.active_run(organisation.id),
                   review=queries.pending_review(organisation.id),
                   # A preview or undo since a failed sync hid it here, not on Settings › Schools.
                   failing_since=facts_of(organisation.id).failing_since)


def last_seen_reference(organisation_id):
    """People still in the group were last seen by the newest completed sync."""
    run = queries.last_complete_run(organisation_id)
    return run.finished_at if run is not None else None
