"""The top of Manage user sync: the connection, the group, the state and the last run."""
from dataclasses import dataclass

from webapp.microsoft.groups import KIND_LABELS
from webapp.microsoft.models import (CONNECTED, RECONNECT_NEEDED, connection_for_organisation,
                                     group_choice_for)
from webapp.user_sync.engine import queries

# The state codes (templates compare these) and the words shown for them.
NOT_CONNECTED, NO_GROUP = "not_connected", "no_group"
STATE_LABELS = {NOT_CONNECTED: "Not connected", RECONNECT_NEEDED: "Reconnect needed",
                NO_GROUP: "No group chosen", CONNECTED: "Connected"}


@dataclass
class Summary:
    connection: object
    choice: object
    state: str
    kind_label: str
    latest: object
    active: object
    review: object

    @property
    def can_sync(self):
        return self.state == CONNECTED

    @property
    def state_label(self):
        return STATE_LABELS[self.state]


def connection_state(connection, choice):
    if connection is None:
        return NOT_CONNECTED
    if connection.needs_reconnect:
        return RECONNECT_NEEDED
    return NO_GROUP if choice is None else CONNECTED


def for_organisation(organisation):
    connection = connection_for_organisation(organisation)
    choice = group_choice_for(organisation)
    return Summary(connection=connection, choice=choice,
                   state=connection_state(connection, choice),
                   kind_label=KIND_LABELS.get(choice.kind, choice.kind) if choice else "",
                   latest=queries.latest_run(organisation.id, kinds=("sync", "preview")),
                   active=queries.active_run(organisation.id),
                   review=queries.pending_review(organisation.id))


def last_seen_reference(organisation_id):
    """People still in the group were last seen by the newest completed sync."""
    run = queries.last_complete_run(organisation_id)
    return run.finished_at if run is not None else None
