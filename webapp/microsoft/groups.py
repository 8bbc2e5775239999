"""The group picker: a local snapshot of the tenant's groups, searched on the server.

A job pages through every group into memory and only then replaces the snapshot, so the
picker never shows half a tenant. Choosing groups (selection.py) re-checks each against Graph.
"""
from datetime import timedelta

from sqlalchemy import delete, func, select

from webapp.clock import as_utc, utcnow
from webapp.errors import ServiceError
from webapp.extensions import db
from webapp.listing import contains
from webapp.microsoft import forbidden
from webapp.microsoft.app_credentials import AppCredentialsRefused
from webapp.microsoft.graph import GraphError, GraphForbidden, GraphNotFound
from webapp.microsoft.identity import ReconnectNeeded
from webapp.microsoft.models import (OBJECT_ID, SNAPSHOT_FAILED, SNAPSHOT_FINISHED, SNAPSHOT_RUNNING,
                                     GroupSnapshot, MicrosoftConnection, SnapshotGroup,
                                     connection_for_organisation)
from webapp.microsoft.tokens import TokenCacheUnreadable
from webapp.redis_conn import enqueue

SECURITY, MAIL_SECURITY, DISTRIBUTION, MICROSOFT_365 = (
    "security", "mail_security", "distribution", "microsoft365")
KIND_LABELS = {SECURITY: "Security", MAIL_SECURITY: "Mail-enabled security",
               DISTRIBUTION: "Distribution", MICROSOFT_365: "Microsoft 365"}
SUPPORTED_KINDS = {SECURITY, MAIL_SECURITY, DISTRIBUTION}
GROUP_FIELDS = "id,displayName,groupTypes,mailEnabled,securityEnabled"
GROUP_TYPES_URL = ("https://learn.microsoft.com/en-us/microsoft-365/admin/create-groups/"
                   "compare-groups")
STALE_RUN = timedelta(minutes=15)
GROUP_ID = OBJECT_ID
SEARCH_LIMIT = 50


def classify(group):
    """(kind, dynamic) from Graph's groupTypes/mailEnabled/securityEnabled."""
    types = group.get("groupTypes") or []
    dynamic = "DynamicMembership" in types
    if "Unified" in types:
        return MICROSOFT_365, dynamic
    if group.get("securityEnabled"):
        return (MAIL_SECURITY if group.get("mailEnabled") else SECURITY), dynamic
    return DISTRIBUTION, dynamic


def snapshot_for(connection):
    return db.session.scalar(select(GroupSnapshot).where(GroupSnapshot.connection_id == connection.id))


def begin_snapshot(connection):
    """Marks a snapshot as running; returns False when one is already under way."""
    snapshot = snapshot_for(connection)
    now = utcnow()
    if snapshot is not None and snapshot.running and as_utc(snapshot.started_at) > now - STALE_RUN:
        return False
    if snapshot is None:
        snapshot = GroupSnapshot(connection_id=connection.id)
        db.session.add(snapshot)
    snapshot.status, snapshot.error = SNAPSHOT_RUNNING, None
    snapshot.groups_fetched = snapshot.pages_fetched = 0
    snapshot.started_at, snapshot.finished_at = now, None
    db.session.commit()
    return True


def request_snapshot(connection):
    """Queues a group snapshot unless one is already running for this connection."""
    if begin_snapshot(connection):
        enqueue_snapshot(connection.id)


def enqueue_snapshot(connection_id):
    enqueue("quick", "jobs.microsoft.snapshot_groups", connection_id,
            description=f"group snapshot of connection {connection_id}")


def take_snapshot(connection_id, graph_client):
    """Pages through all groups ($top=999), then swaps the snapshot in one transaction."""
    snapshot = db.session.scalar(select(GroupSnapshot).where(
        GroupSnapshot.connection_id == connection_id))
    if snapshot is None:  # disconnected before the job ran
        return False
    fetched = []
    try:
        for page in graph_client.iter_pages("groups", params={"$top": "999", "$select": GROUP_FIELDS}):
            fetched.extend(page.get("value", []))
            snapshot.pages_fetched += 1
            snapshot.groups_fetched = len(fetched)
            db.session.commit()
    except (GraphError, ReconnectNeeded, AppCredentialsRefused, ConnectionError,
            TokenCacheUnreadable) as error:
        db.session.rollback()
        _finish(snapshot, SNAPSHOT_FAILED, _plain_error(error, snapshot.connection_id))
        return False
    _replace_groups(connection_id, fetched)
    _finish(snapshot, SNAPSHOT_FINISHED)
    return True


def _replace_groups(connection_id, groups):
    db.session.execute(delete(SnapshotGroup).where(SnapshotGroup.connection_id == connection_id))
    rows = []
    for group in groups:
        kind, dynamic = classify(group)
        name = group.get("displayName") or "(no name)"
        rows.append({"connection_id": connection_id, "group_id": group["id"], "display_name": name,
                     "name_lower": name.lower(), "kind": kind, "dynamic": dynamic})
    if rows:
        db.session.execute(SnapshotGroup.__table__.insert(), rows)


def _finish(snapshot, status, error=None):
    snapshot.status, snapshot.error, snapshot.finished_at = status, error, utcnow()
    db.session.commit()


def _plain_error(error, connection_id):
    if isinstance(error, (ReconnectNeeded, TokenCacheUnreadable)):
        return f"{error} Reconnect to Microsoft in Import settings."
    if isinstance(error, AppCredentialsRefused):
        return str(error)
    if isinstance(error, GraphForbidden):
        refusal = forbidden.explain(db.session.get(MicrosoftConnection, connection_id),
                                    "list your organisation's groups")
        return f"{refusal.message} {refusal.fix}"
    return f"Microsoft did not give us the list of groups: {error}"


def search_groups(connection, query, limit=SEARCH_LIMIT, page=1, leave_out=()):
    """(one page of the groups whose name contains the query, total matches), names A-Z.
    leave_out: group ids not to list (the picker shows the chosen ones above the list)."""
    clause = [SnapshotGroup.connection_id == connection.id]
    query = (query or "").strip().lower()
    if query:
        clause.append(contains(SnapshotGroup.name_lower, query))
    if leave_out:
        clause.append(SnapshotGroup.group_id.not_in(list(leave_out)))
    total = db.session.scalar(select(func.count(SnapshotGroup.id)).where(*clause))
    rows = db.session.scalars(select(SnapshotGroup).where(*clause)
                              .order_by(SnapshotGroup.name_lower, SnapshotGroup.id)
                              .limit(limit).offset((max(1, page) - 1) * limit)).all()
    return rows, total


def snapshot_groups(connection, group_ids):
    """{group id: SnapshotGroup} for the ids this connection's snapshot holds."""
    if not group_ids:
        return {}
    rows = db.session.scalars(select(SnapshotGroup).where(
        SnapshotGroup.connection_id == connection.id, SnapshotGroup.group_id.in_(list(group_ids))))
    return {row.group_id: row for row in rows}


def snapshot_size(connection):
    return db.session.scalar(select(func.count(SnapshotGroup.id)).where(
        SnapshotGroup.connection_id == connection.id))


def group_from_graph(graph_client, group_id, name=None):
    """The group as Graph has it; name: what the picker called it, for the refusal."""
    if not GROUP_ID.fullmatch(group_id):  # Graph group ids are GUIDs; nothing else reaches a URL
        raise ServiceError("Choose a group from the list.")
    try:
        return graph_client.get_json(f"groups/{group_id}", params={"$select": GROUP_FIELDS})
    except GraphNotFound:
        which = f"“{name}”" if name else "That group"
        raise ServiceError(f"{which} is no longer in your organisation's Microsoft tenant (it "
                           "may have been deleted). Untick it under Chosen groups, or Refresh "
                           "groups and choose again. Nothing was saved.") from None


def member_count(graph_client, group_id):
    page = graph_client.get_json(
        f"groups/{group_id}/transitiveMembers/microsoft.graph.user",
        params={"$count": "true", "$top": "1", "$select": "id"},
        headers={"ConsistencyLevel": "eventual"})
    return page.get("@odata.count")


def remember_member_counts(organisation, group_ids, graph_client):
    """Best effort: the count is shown where known, and a failure here must not undo the choice."""
    listed = snapshot_groups(connection_for_organisation(organisation), group_ids)
    for group_id, row in listed.items():
        try:
            row.member_count = member_count(graph_client, group_id)
        except (GraphError, ReconnectNeeded, AppCredentialsRefused, ConnectionError,
                TokenCacheUnreadable):
            break
    if listed:
        db.session.commit()
