"""The second steps an account has, and each school's two-step policy."""
from webapp.clock import utcnow
from webapp.extensions import db

PASSKEY_NAME_MAX_LENGTH = 64


class AuthenticatorApp(db.Model):
    """An authenticator app's shared secret, Fernet-encrypted with TOKEN_ENCRYPTION_KEY. A row
    without confirmed_at is a set-up waiting for its first correct code (a new phone's, while
    the old one still works); an account has at most one confirmed row."""
    __tablename__ = "authenticator_apps"

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False,
                        index=True)
    secret_encrypted = db.Column(db.LargeBinary, nullable=False)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    confirmed_at = db.Column(db.DateTime(timezone=True))
    # The 30-second step of the newest code accepted: a code of that step or earlier is refused.
    last_used_step = db.Column(db.BigInteger)
    last_used_at = db.Column(db.DateTime(timezone=True))


class Passkey(db.Model):
    """A WebAuthn credential: its id and public key from the registration, the signature
    counter last seen (an authenticator that counts must count up), the name its owner gave."""
    __tablename__ = "passkeys"

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False,
                        index=True)
    credential_id = db.Column(db.LargeBinary, nullable=False, unique=True)
    public_key = db.Column(db.LargeBinary, nullable=False)
    sign_count = db.Column(db.BigInteger, nullable=False, default=0)
    name = db.Column(db.String(PASSKEY_NAME_MAX_LENGTH), nullable=False)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    last_used_at = db.Column(db.DateTime(timezone=True))


class RecoveryCode(db.Model):
    """One of the ten single-use recovery codes: only its SHA-256 hash is kept (a code is 80
    random bits, so a plain hash is enough)."""
    __tablename__ = "recovery_codes"
    __table_args__ = (db.Index("ix_recovery_codes_user_hash", "user_id", "code_hash"),)

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    code_hash = db.Column(db.String(64), nullable=False)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    used_at = db.Column(db.DateTime(timezone=True))


class TwoStepPolicy(db.Model):
    """A school's "Admins must use two-step verification", and who last changed it, when."""
    __tablename__ = "two_step_policies"

    id = db.Column(db.Integer, primary_key=True)
    organisation_id = db.Column(db.Integer, db.ForeignKey("organisations.id", ondelete="CASCADE"),
                                nullable=False, unique=True)
    admins_must_use_two_step = db.Column(db.Boolean, nullable=False, default=False)
    changed_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    changed_by_user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"))

    changed_by = db.relationship("User")
