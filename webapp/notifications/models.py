"""Emails the product sends: one row per event (the dedupe key and the outbox), and opt-outs."""
from webapp.clock import utcnow
from webapp.extensions import db

PENDING, SENT, LOGGED, NO_RECIPIENTS = "pending", "sent", "logged", "no_recipients"


class NotificationEvent(db.Model):
    """The unique (scope, dedupe_key, day) is the "once per school, event and day" rule; it is
    in the database, so a restarted process never sends the same mail again."""
    __tablename__ = "notification_events"
    __table_args__ = (
        db.UniqueConstraint("scope", "dedupe_key", "day", name="uq_notification_events_once"),
        db.Index("ix_notification_events_status_next", "status", "next_attempt_at"),
    )

    id = db.Column(db.Integer, primary_key=True)
    organisation_id = db.Column(db.Integer, db.ForeignKey("organisations.id", ondelete="CASCADE"),
                                index=True)
    # A mail to one admin (the weekly digest) rather than to a school's admins.
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    scope = db.Column(db.String(32), nullable=False)  # "org:<id>", "user:<id>" or "operations"
    event = db.Column(db.String(32), nullable=False)
    dedupe_key = db.Column(db.String(128), nullable=False)
    day = db.Column(db.Date, nullable=False)
    payload = db.Column(db.Text, nullable=False, default="{}")  # JSON: counts, reason, run id
    status = db.Column(db.String(16), nullable=False, default=PENDING)
    attempts = db.Column(db.Integer, nullable=False, default=0)
    last_error = db.Column(db.Text)
    # A sender leases the row by moving this forward; a pending row past it is (re)sent.
    next_attempt_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    sent_at = db.Column(db.DateTime(timezone=True))


class NotificationOptOut(db.Model):
    """An admin turned one kind of email off for themselves (every kind is on by default)."""
    __tablename__ = "notification_opt_outs"
    __table_args__ = (db.UniqueConstraint("user_id", "event", name="uq_notification_opt_outs"),)

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    event = db.Column(db.String(32), nullable=False)


class DigestSubscription(db.Model):
    """An admin asked for the weekly digest (off unless they tick it on the Notifications page).
    It is sent on Monday at 07:00 in the time zone of the school whose page they ticked it on."""
    __tablename__ = "notification_digest_subscriptions"

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False,
                        unique=True)
    organisation_id = db.Column(db.Integer, db.ForeignKey("organisations.id", ondelete="SET NULL"))
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
