"""Microsoft connections: what the web pages, jobs and the sync engine share.

No Flask request in here. `graph_client_for(connection)` is the one way to get a Graph client
bound to a connection's (encrypted, silently refreshed) tokens.
"""
from flask import current_app
from sqlalchemy import delete, select

from webapp.auth.models import utcnow
from webapp.extensions import db
from webapp.microsoft.graph import GraphClient
from webapp.microsoft.identity import access_token_for
from webapp.microsoft.models import (CONNECTED, ConnectAttempt, GroupChoice, GroupSnapshot,
                                     MicrosoftConnection, SnapshotGroup, connection_for_organisation)

# Outcomes of a connect attempt, as stored on ConnectAttempt.outcome.
OUTCOME_STARTED = "started"
OUTCOME_CONNECTED = "connected"


def graph_client_for(connection, **options):
    """A GraphClient whose tokens come from this connection (refreshed, never logged)."""
    connection_id = connection.id

    def token_provider(force_refresh=False):
        return access_token_for(connection_id, force_refresh=force_refresh)

    options.setdefault("timeout", current_app.config["HTTP_TIMEOUT_SECONDS"])
    return GraphClient(current_app.config["MICROSOFT_GRAPH_URL"], token_provider, **options)


def trust_organisations(organisation):
    return organisation.trust_organisations()


def record_attempt_start(organisation, user):
    attempt = ConnectAttempt(organisation_id=organisation.id, user_id=user.id,
                             outcome=OUTCOME_STARTED)
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
    db.session.commit()
    return attempt


def last_attempt_for(organisation):
    ids = [org.id for org in trust_organisations(organisation)]
    return db.session.scalar(select(ConnectAttempt).where(ConnectAttempt.organisation_id.in_(ids))
                             .order_by(ConnectAttempt.id.desc()).limit(1))


def recent_attempts_for(organisation, limit=10):
    ids = [org.id for org in trust_organisations(organisation)]
    return db.session.scalars(select(ConnectAttempt).where(ConnectAttempt.organisation_id.in_(ids))
                              .order_by(ConnectAttempt.id.desc()).limit(limit)).all()


def save_connection(organisation, user, identity, cache_encrypted):
    """Creates or replaces the trust's connection; a different tenant forgets old group choices."""
    connection = connection_for_organisation(organisation)
    if connection is None:
        connection = MicrosoftConnection(trust_id=organisation.trust_id,
                                         organisation_id=None if organisation.trust_id else organisation.id)
        db.session.add(connection)
    elif connection.tenant_id != identity["tenant_id"]:
        _forget_group_choices(organisation)
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
    db.session.commit()
    return connection


def _forget_group_choices(organisation):
    ids = [org.id for org in trust_organisations(organisation)]
    db.session.execute(delete(GroupChoice).where(GroupChoice.organisation_id.in_(ids)))


def disconnect(organisation):
    """Deletes the stored tokens (the whole connection); people already synced stay as they are."""
    connection = connection_for_organisation(organisation)
    if connection is None:
        return False
    # SQLite does not enforce ON DELETE CASCADE unless asked, so children go explicitly.
    for model in (SnapshotGroup, GroupSnapshot):
        db.session.execute(delete(model).where(model.connection_id == connection.id))
    db.session.delete(connection)
    db.session.commit()
    return True
