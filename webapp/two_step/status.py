"""Whether an account has two-step verification on, and what it has: one place every caller
(the sign-in, the policy, Sign-in and security, Manage users) asks."""
from dataclasses import dataclass, field

from sqlalchemy import func, select

from webapp.auth.sessions import SECOND_STEP_LABELS
from webapp.extensions import db
from webapp.two_step.authenticator import confirmed_app
from webapp.two_step.models import AuthenticatorApp, Passkey
from webapp.two_step.passkeys import passkeys_of
from webapp.two_step.recovery_codes import left
from webapp.words import counted

# How the second step was made (account_sessions.second_step; its words are there too).
APP, PASSKEY, RECOVERY_CODE = tuple(SECOND_STEP_LABELS)


def is_on(user):
    """On when the account has a confirmed authenticator app or a passkey (recovery codes are
    only the way back in when those are lost)."""
    return bool(db.session.scalar(select(
        select(AuthenticatorApp.id).where(AuthenticatorApp.user_id == user.id,
                                          AuthenticatorApp.confirmed_at.isnot(None)).exists()
        | select(Passkey.id).where(Passkey.user_id == user.id).exists())))


@dataclass
class Methods:
    """What an account has: its app (or None), its passkeys, how many codes are left."""
    app: object = None
    passkeys: list = field(default_factory=list)
    codes_left: int = 0

    @property
    def is_on(self):
        return self.app is not None or bool(self.passkeys)

    @property
    def method_count(self):
        return (self.app is not None) + len(self.passkeys)


def methods_of(user):
    return Methods(confirmed_app(user), list(passkeys_of(user)), left(user))


def summaries_for(user_ids):
    """{user id: "Authenticator app and 2 passkeys"} for the accounts that have two-step on,
    in two queries whatever their number (a page of Manage users)."""
    user_ids = list(user_ids)
    apps = set(db.session.scalars(select(AuthenticatorApp.user_id).where(
        AuthenticatorApp.user_id.in_(user_ids), AuthenticatorApp.confirmed_at.isnot(None))))
    keys = dict(db.session.execute(select(Passkey.user_id, func.count(Passkey.id)).where(
        Passkey.user_id.in_(user_ids)).group_by(Passkey.user_id)).all())
    summaries = {}
    for user_id in apps | set(keys):
        parts = (["Authenticator app"] if user_id in apps else []) + (
            [counted(keys[user_id], "passkey")] if user_id in keys else [])
        summaries[user_id] = " and ".join(parts)
    return summaries

