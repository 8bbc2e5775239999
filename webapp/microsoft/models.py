"""The Microsoft connection a trust shares, the connect attempts made, and the snapshot of a
tenant's groups the picker searches. A school's chosen groups: webapp.microsoft.selection."""
import re

from sqlalchemy import select

from webapp.clock import utcnow
from webapp.extensions import db

# A connection's status; CONNECTED is also the outcome code of the attempt that made it work.
CONNECTED = "connected"
RECONNECT_NEEDED = "reconnect_needed"
ATTEMPT_STARTED = "started"  # a ConnectAttempt's outcome until the attempt ends (see connect.py)
# Microsoft Entra object ids (users, groups) are GUIDs; nothing else is one of theirs.
OBJECT_ID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


class MicrosoftConnection(db.Model):
    """One per trust (an organisation without a trust is a trust of one)."""
    __tablename__ = "microsoft_connections"

    id = db.Column(db.Integer, primary_key=True)
    trust_id = db.Column(db.Integer, db.ForeignKey("trusts.id", ondelete="CASCADE"), unique=True)
    organisation_id = db.Column(db.Integer, db.ForeignKey("organisations.id", ondelete="CASCADE"),
                                unique=True)
    connected_by_user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"))
    account_email = db.Column(db.String(320), nullable=False)
    account_object_id = db.Column(db.String(64), nullable=False)
    tenant_id = db.Column(db.String(64), nullable=False)
    tenant_name = db.Column(db.String(255))
    home_account_id = db.Column(db.String(200), nullable=False)
    granted_scopes = db.Column(db.Text, nullable=False, default="")
    # MSAL's serialised token cache, Fernet-encrypted (see webapp.microsoft.tokens).
    token_cache_encrypted = db.Column(db.LargeBinary)
    status = db.Column(db.String(32), nullable=False, default=CONNECTED)
    status_reason = db.Column(db.Text)
    connected_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow,
                           onupdate=utcnow)

    connected_by = db.relationship("User")

    @property
    def needs_reconnect(self):
        return self.status == RECONNECT_NEEDED


def connection_for_organisation(organisation):
    """The school's Microsoft connection, or None (connections_of for a school of one)."""
    return connections_of([(organisation.id, organisation.trust_id)])[organisation.id]


def connections_of(schools):
    """The one rule for whose connection a school uses: a school of a trust uses the trust's
    connection, a school without a trust its own. schools: (organisation id, trust id) pairs;
    one query; returns {organisation id: its connection, or None}."""
    schools = list(schools)
    trust_ids = {trust_id for _, trust_id in schools if trust_id is not None}
    own_ids = [organisation_id for organisation_id, trust_id in schools if trust_id is None]
    by_trust, by_school = {}, {}
    if schools:
        clause = (MicrosoftConnection.trust_id.in_(trust_ids) if not own_ids
                  else MicrosoftConnection.organisation_id.in_(own_ids) if not trust_ids
                  else MicrosoftConnection.trust_id.in_(trust_ids)
                  | MicrosoftConnection.organisation_id.in_(own_ids))
        for connection in db.session.scalars(select(MicrosoftConnection).where(clause)):
            if connection.trust_id is not None:
                by_trust[connection.trust_id] = connection
            else:
                by_school[connection.organisation_id] = connection
    return {organisation_id: by_trust.get(trust_id) if trust_id is not None
            else by_school.get(organisation_id) for organisation_id, trust_id in schools}


class ConnectAttempt(db.Model):
    """Every Connect with Microsoft attempt, for Troubleshooting and the audit trail."""
    __tablename__ = "microsoft_connect_attempts"

    id = db.Column(db.Integer, primary_key=True)
    organisation_id = db.Column(db.Integer, db.ForeignKey("organisations.id", ondelete="CASCADE"),
                                nullable=False, index=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"))
    started_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    finished_at = db.Column(db.DateTime(timezone=True))
    outcome = db.Column(db.String(64), nullable=False, default=ATTEMPT_STARTED)
    returned_account = db.Column(db.String(320))
    returned_tenant_id = db.Column(db.String(64))
    detail = db.Column(db.Text)

    user = db.relationship("User")
    organisation = db.relationship("Organisation")


SNAPSHOT_RUNNING, SNAPSHOT_FINISHED, SNAPSHOT_FAILED = "running", "finished", "failed"


class GroupSnapshot(db.Model):
    """Progress of the job that copies a tenant's groups for the picker (one row per connection)."""
    __tablename__ = "microsoft_group_snapshots"

    id = db.Column(db.Integer, primary_key=True)
    connection_id = db.Column(db.Integer, db.ForeignKey("microsoft_connections.id", ondelete="CASCADE"),
                              nullable=False, unique=True)
    status = db.Column(db.String(16), nullable=False, default=SNAPSHOT_RUNNING)
    groups_fetched = db.Column(db.Integer, nullable=False, default=0)
    pages_fetched = db.Column(db.Integer, nullable=False, default=0)
    error = db.Column(db.Text)
    started_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    finished_at = db.Column(db.DateTime(timezone=True))

    @property
    def running(self):
        return self.status == SNAPSHOT_RUNNING


class SnapshotGroup(db.Model):
    """One group of the tenant as the last complete snapshot saw it; searched by the picker."""
    __tablename__ = "microsoft_snapshot_groups"
    __table_args__ = (
        db.UniqueConstraint("connection_id", "group_id", name="uq_snapshot_groups_connection_group"),
        db.Index("ix_snapshot_groups_connection_name", "connection_id", "name_lower"),
    )

    id = db.Column(db.Integer, primary_key=True)
    connection_id = db.Column(db.Integer, db.ForeignKey("microsoft_connections.id", ondelete="CASCADE"),
                              nullable=False)
    group_id = db.Column(db.String(64), nullable=False)
    display_name = db.Column(db.String(512), nullable=False)
    name_lower = db.Column(db.String(512), nullable=False)
    kind = db.Column(db.String(32), nullable=False)
    dynamic = db.Column(db.Boolean, nullable=False, default=False)
    member_count = db.Column(db.Integer)
