"""The audit log: one row per admin action, written once and never changed by the app.

No foreign keys: an entry outlives the account and the organisation it names (the erasure
service scrubs a leaver's details from it, see webapp.privacy.erasure).
"""
from webapp.clock import utcnow
from webapp.extensions import db

# Where an action came from: a web request, an RQ job, or a command line.
ORIGIN_WEB, ORIGIN_JOB, ORIGIN_CLI = "web", "job", "cli"


class AuditEntry(db.Model):
    __tablename__ = "audit_entries"
    __table_args__ = (
        db.Index("ix_audit_entries_org_created", "organisation_id", "created_at"),
        db.Index("ix_audit_entries_org_action_created", "organisation_id", "action", "created_at"),
        db.Index("ix_audit_entries_actor", "actor_user_id"),
    )

    id = db.Column(db.Integer, primary_key=True)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    organisation_id = db.Column(db.Integer)
    actor_user_id = db.Column(db.Integer)
    actor_email = db.Column(db.String(320))  # as it was at the time
    origin = db.Column(db.String(8), nullable=False, default=ORIGIN_WEB)
    action = db.Column(db.String(64), nullable=False)
    # The person the action was about, if any (excluded, included, their data downloaded...).
    subject_user_id = db.Column(db.Integer, index=True)
    subject_synced_person_id = db.Column(db.Integer, index=True)
    subject_label = db.Column(db.String(512))
    before = db.Column(db.Text)  # JSON
    after = db.Column(db.Text)  # JSON
    request_id = db.Column(db.String(200))
    ip = db.Column(db.String(64))
