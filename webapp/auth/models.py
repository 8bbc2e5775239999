"""Platform accounts."""
from flask import current_app
from flask_login import UserMixin
from werkzeug.security import check_password_hash, generate_password_hash

from webapp.clock import utcnow
from webapp.extensions import db


# Limits on what a person types; each form states them and the services enforce them.
EMAIL_MAX_LENGTH = 254  # the longest address mail can deliver to (RFC 5321)
NAME_MAX_LENGTH = 255   # the display_name column; also the limit on names from Microsoft


def normalise_email(email):
    return (email or "").strip().lower()


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id = db.Column(db.Integer, primary_key=True)
    email = db.Column(db.String(320), nullable=False)
    email_normalised = db.Column(db.String(320), nullable=False, unique=True, index=True)
    display_name = db.Column(db.String(256), nullable=False, default="")  # Microsoft's limit
    password_hash = db.Column(db.String(255))
    job_title = db.Column(db.String(255))
    department = db.Column(db.String(255))
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    # True for an account the user sync created: the erasure of a leaver may delete it.
    created_by_sync = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())

    memberships = db.relationship("Membership", back_populates="user", cascade="all, delete-orphan")

    def set_email(self, email):
        self.email = email.strip()
        self.email_normalised = normalise_email(email)

    def set_password(self, password):
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password):
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    def active_memberships(self):
        return [m for m in self.memberships if m.status == "active"]

    @property
    def name_or_email(self):
        return self.display_name or self.email
