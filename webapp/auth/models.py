"""Platform accounts, their sessions, one-time links and Microsoft sign-in links."""
import unicodedata

from flask import current_app
from flask_login import UserMixin
from werkzeug.security import check_password_hash, generate_password_hash

from webapp.clock import utcnow
from webapp.extensions import db


# Limits on what a person types; each form states them and the services enforce them.
EMAIL_MAX_LENGTH = 254  # the longest address mail can deliver to (RFC 5321)
NAME_MAX_LENGTH = 255   # the display_name column; also the limit on names from Microsoft


def normalise_password(password):
    """The same letters typed composed or decomposed (é as one character, or e and an accent:
    keyboards and password managers differ) are one password; they were two, and whoever set
    one could not sign in typing the other."""
    return unicodedata.normalize("NFC", password)


def normalise_email(email):
    """How an address is matched: trimmed, NFC (an "ë" typed as e + diaeresis is the same
    letter) and lower case. The user sync matches Microsoft's addresses the same way."""
    return unicodedata.normalize("NFC", (email or "").strip()).lower()


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
        self.password_hash = generate_password_hash(normalise_password(password), method=method)

    def check_password(self, password):
        """As set (NFC); a password set before that with decomposed letters, as it was typed."""
        if not self.password_hash:
            return False
        composed = normalise_password(password)
        return check_password_hash(self.password_hash, composed) or (
            composed != password and check_password_hash(self.password_hash, password))

    def active_memberships(self):
        return [m for m in self.memberships if m.status == "active"]

    @property
    def name_or_email(self):
        return self.display_name or self.email


class AccountSession(db.Model):
    """One signed-in browser. The cookie holds only this row's id; every request checks the row
    (webapp.auth.sessions), so ending it here signs that browser out at its next request."""
    __tablename__ = "account_sessions"
    __table_args__ = (db.Index("ix_account_sessions_user_created", "user_id", "created_at"),)

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    method = db.Column(db.String(16), nullable=False)  # how they signed in: password, microsoft
    # The second step after the password, if one was asked: app, passkey or recovery_code.
    second_step = db.Column(db.String(16))
    # The tenant of the Microsoft account a Microsoft sign-in was made with: whether it stands
    # in for two-step is decided again at every request (webapp.two_step.policy).
    microsoft_tenant_id = db.Column(db.String(64))
    address = db.Column(db.String(64))  # the network address the sign-in came from
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    last_seen_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    ended_at = db.Column(db.DateTime(timezone=True))
    end_reason = db.Column(db.String(32))


class OneTimeToken(db.Model):
    """A link mailed to one person (an invitation, a password reset): the token itself is only
    ever in the email; this row keeps its SHA-256 hash from just before the mail goes."""
    __tablename__ = "one_time_tokens"
    __table_args__ = (db.Index("ix_one_time_tokens_user_purpose", "user_id", "purpose"),
                      db.Index("ix_one_time_tokens_org_purpose", "organisation_id", "purpose"))

    id = db.Column(db.Integer, primary_key=True)
    purpose = db.Column(db.String(32), nullable=False)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    # An invitation's school, and who invited (None: an operator, from the command line).
    organisation_id = db.Column(db.Integer, db.ForeignKey("organisations.id", ondelete="CASCADE"))
    created_by_user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"))
    token_hash = db.Column(db.String(64), unique=True)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    expires_at = db.Column(db.DateTime(timezone=True), nullable=False)
    sent_at = db.Column(db.DateTime(timezone=True))
    used_at = db.Column(db.DateTime(timezone=True))
    revoked_at = db.Column(db.DateTime(timezone=True))
    revoked_reason = db.Column(db.String(32))

    user = db.relationship("User", foreign_keys=[user_id])
    created_by = db.relationship("User", foreign_keys=[created_by_user_id])
    organisation = db.relationship("Organisation")

    @property
    def is_open(self):
        return self.used_at is None and self.revoked_at is None


class MicrosoftSignInLink(db.Model):
    """A Microsoft account a person linked to their platform account themselves (Sign-in and
    security, or an invitation). The user sync's people are linked by synced_people instead."""
    __tablename__ = "microsoft_sign_in_links"
    __table_args__ = (db.UniqueConstraint("tenant_id", "object_id",
                                          name="uq_microsoft_sign_in_links_account"),)

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False,
                        index=True)
    tenant_id = db.Column(db.String(64), nullable=False)
    object_id = db.Column(db.String(64), nullable=False)
    # preferred_username when linked or last used: shown to the person, never used to match.
    username = db.Column(db.String(320), nullable=False, default="")
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    last_used_at = db.Column(db.DateTime(timezone=True))
