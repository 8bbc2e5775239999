"""Microsoft connections: what the web pages, jobs and the sync engine share.

No Flask request in here. `graph_client_for(connection)` is the one way to get a Graph client
bound to a connection's (encrypted, silently refreshed) tokens.
"""
import json

from flask import current_app
from sqlalchemy import delete, select

from webapp import audit
from webapp.audit import actions
from webapp.audit.models import AuditEntry
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.microsoft.graph import GraphClient
from webapp.microsoft.identity import access_token_for, token_lock
from webapp.microsoft.selection import GroupChoice
from webapp.microsoft.models import (ATTEMPT_STARTED, CONNECTED, ConnectAttempt, 
                                     GroupSnapshot, MicrosoftConnection, SnapshotGroup,
                                     connection_for_organisation)


def graph_client_for(connection, **options):
    """A GraphClient whose tokens come from this connection (refreshed, never logged)."""
    connection_id = connection.id

    def token_provider(force_refresh=False):
        return access_token_for(connection_id, force_refresh=force_refresh)

    options.setdefault("timeout", current_app.config["HTTP_TIMEOUT_SECONDS"])
    return GraphClient(current_app.config["MICROSOFT_GRAPH_URL"], token_provider, **options)


def _trust_ids(organisation):
    return [org.id for org in organisation.trust_organisations()]


def record_attempt_start(organisation, user):
    attempt = ConnectAttempt(organisation_id=organisation.id, user_id=user.id,
                             outcome=ATTEMPT_STARTED)
    db.session.add(attempt)
    db.session.commit()
    return attempt


def finish_attempt(attempt_id, outcome, detail=None, account=None, tenant_id=None):
    attempt = db.session.get(ConnectAttempt, attempt_id) if attempt_id else None
    if attempt is None:
        return None
    attempt.outcome, attempt.detail = outcome, detail
    attempt.returned_account = account or attempt.returned_account
    attempt.returned_tenant_id = tenant_id or attempt.returned_tenant_id
    attempt.finished_at = utcnow()
    if outcome != CONNECTED:
        audit.record(actions.MICROSOFT_CONNECT_FAILED, attempt.organisation_id,
                     after={"outcome": outcome})
    db.session.commit()
    return attempt


def _newest_attempts(organisation, limit):
    """Connect attempts made from any school of the trust, newest first."""
    return (select(ConnectAttempt).where(ConnectAttempt.organisation_id.in_(_trust_ids(organisation)))
            .order_by(ConnectAttempt.id.desc()).limit(limit))


def last_attempt_for(organisation):
    return db.session.scalar(_newest_attempts(organisation, 1))


def recent_attempts_for(organisation, limit=10):
    return db.session.scalars(_newest_attempts(organisation, limit)).all()


def save_connection(organisation, user, identity, cache_encrypted):
    """Creates or replaces the trust's connection; a different tenant forgets old group choices.
    Returns (the connection, how many schools' chosen groups that forgot).
    A replacement waits for a token refresh under way (token_lock), which would otherwise write
    the old account's tokens back over the new ones, and the connection then needed a reconnect."""
    existing = connection_for_organisation(organisation)
    if existing is None:
        return _save_connection(organisation, user, identity, cache_encrypted)
    with token_lock(existing.id):
        db.session.expire(existing)
        return _save_connection(organisation, user, identity, cache_encrypted)


def _save_connection(organisation, user, identity, cache_encrypted):
    connection = connection_for_organisation(organisation)
    previous, groups_cleared = _described(connection), 0
    if connection is None:
        if _tenant_disconnected(organisation) not in (None, identity["tenant_id"]):
            groups_cleared = _forget_group_choices(organisation)
        connection = MicrosoftConnection(trust_id=organisation.trust_id,
                                         organisation_id=None if organisation.trust_id else organisation.id)
        db.session.add(connection)
    elif connection.tenant_id != identity["tenant_id"]:
        groups_cleared = _forget_group_choices(organisation)
    connection.connected_by_user_id = user.id
    connection.account_email = identity["account"]
    connection.account_object_id = identity["object_id"]
    connection.tenant_id = identity["tenant_id"]
    connection.tenant_name = identity.get("tenant_name")
    connection.home_account_id = identity["home_account_id"]
    connection.granted_scopes = identity["scopes"]
    connection.token_cache_encrypted = cache_encrypted
    connection.status, connection.status_reason = CONNECTED, None
    connection.connected_at = utcnow()
    audit.record(actions.MICROSOFT_RECONNECTED if previous else actions.MICROSOFT_CONNECTED,
                 organisation.id, actor=user, before=previous,
                 after={**_described(connection), "schools_whose_groups_were_cleared": groups_cleared}
                 if groups_cleared else _described(connection))
    db.session.commit()
    return connection, groups_cleared


def _described(connection):
    """What the audit log keeps of a connection: who and which tenant, never a token."""
    if connection is None:
        return None
    return {"account": connection.account_email, "tenant_id": connection.tenant_id}


def _tenant_disconnected(organisation):
    """The tenant of the trust's last Disconnect (its audit entry keeps it; the connection row
    is gone): chosen groups kept across a disconnect are another tenant's if it differs (they
    were kept, then said "deleted in Microsoft")."""
    entry = db.session.scalar(select(AuditEntry.before).where(
        AuditEntry.organisation_id.in_(_trust_ids(organisation)),
        AuditEntry.action == actions.MICROSOFT_DISCONNECTED)
        .order_by(AuditEntry.id.desc()).limit(1))
    return json.loads(entry).get("tenant_id") if entry else None


def _forget_group_choices(organisation):
    """Returns how many schools had groups chosen (the Connect answer says so)."""
    schools = set(db.session.scalars(select(GroupChoice.organisation_id).where(
        GroupChoice.organisation_id.in_(_trust_ids(organisation)))))
    db.session.execute(delete(GroupChoice).where(
        GroupChoice.organisation_id.in_(_trust_ids(organisation))))
    return len(schools)


def disconnect(organisation):
    """Deletes the stored tokens (the whole connection); people already synced stay as they are."""
    connection = connection_for_organisation(organisation)
    if connection is None:
        return False
    with token_lock(connection.id):  # after a refresh under way, which writes the row it read
        return _disconnect(organisation, connection)


def _disconnect(organisation, connection):
    # SQLite does not enforce ON DELETE CASCADE unless asked, so children go explicitly.
    for model in (SnapshotGroup, GroupSnapshot):
        db.session.execute(delete(model).where(model.connection_id == connection.id))
    audit.record(actions.MICROSOFT_DISCONNECTED, organisation.id, before=_described(connection))
    db.session.delete(connection)
    db.session.commit()
    return True
