"""The authenticator app: TOTP (RFC 6238) with pyotp, 30-second steps, one step of drift either
way, and a code accepted at most once (the step of the newest code accepted is kept, and only a
later step is taken, by a conditional update, so two requests racing with one code cannot both
win).

The shared secret is made by pyotp, encrypted at rest with TOKEN_ENCRYPTION_KEY (MultiFernet, as
the Microsoft token caches; `keys rotate-token-cache` re-encrypts both) and decrypted only to
show it during set-up and to check a code. It never reaches a log or an audit entry.
"""
import hmac
import re
from dataclasses import dataclass
from datetime import timedelta

import pyotp
import segno
from cryptography.fernet import InvalidToken
from sqlalchemy import delete, or_, select, update

from webapp import audit
from webapp.audit import actions
from webapp.clock import as_utc, utcnow
from webapp.errors import ServiceError
from webapp.extensions import db
from webapp.microsoft.tokens import fernet_from_config
from webapp.two_step.models import AuthenticatorApp

ISSUER = "rostersync"
DIGITS = 6
DRIFT_STEPS = 1
# A set-up not finished within this time starts again (its key was on screen meanwhile).
SETUP_LIFETIME = timedelta(hours=1)
CODE_MAX_LENGTH = 7  # six digits, and the space some apps show in the middle
WRONG_CODE = ("That code is not right. Check the code your authenticator app shows now for "
              "rostersync, and type its 6 digits.")
NOT_SIX_DIGITS = "A verification code has 6 digits, like 123456. Type the code your app shows."


class CodeRefused(ServiceError):
    """A verification code that was not taken; str() says why, for the page."""


class SecretUnreadable(ServiceError):
    """The stored key cannot be decrypted with any configured TOKEN_ENCRYPTION_KEY."""


def encrypt(secret):
    return fernet_from_config().encrypt(secret.encode("ascii"))


def decrypt(encrypted):
    try:
        return fernet_from_config().decrypt(bytes(encrypted)).decode("ascii")
    except InvalidToken:
        raise SecretUnreadable(
            "Your authenticator app's key cannot be read with this installation's "
            "TOKEN_ENCRYPTION_KEY. Use a passkey or a recovery code, or ask an administrator to "
            "reset your two-step verification.") from None


def reencrypt(encrypted):
    """With the first (newest) key; used by key rotation."""
    return fernet_from_config().rotate(bytes(encrypted))


def normalised_code(text):
    """The six digits typed (spaces and a hyphen allowed between them), or CodeRefused."""
    code = re.sub(r"[\s-]", "", (text or "")[:64])
    if not (len(code) == DIGITS and code.isascii() and code.isdigit()):
        raise CodeRefused(NOT_SIX_DIGITS)
    return code


def matching_step(secret, code, now):
    """The 30-second step, within one step of now, whose code this is; None if none is."""
    totp = pyotp.TOTP(secret, digits=DIGITS)
    current = totp.timecode(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def confirmed_app(user):
    return db.session.scalar(select(AuthenticatorApp).where(
        AuthenticatorApp.user_id == user.id, AuthenticatorApp.confirmed_at.isnot(None)))


def _take_step(app_row, step, now):
    """Records the step as used unless it (or a later one) already was; True if this call won."""
    return db.session.execute(update(AuthenticatorApp).where(
        AuthenticatorApp.id == app_row.id,
        or_(AuthenticatorApp.last_used_step.is_(None), AuthenticatorApp.last_used_step < step))
        .values(last_used_step=step, last_used_at=now)).rowcount == 1


def check_code(user, text, now=None):
    """True when text is a current code of the account's app, not used before (it is then
    used up); False for a wrong, old or reused code. CodeRefused for what is not 6 digits.
    The caller commits."""
    code = normalised_code(text)
    app_row = confirmed_app(user)
    if app_row is None:
        return False
    now = now or utcnow()
    step = matching_step(decrypt(app_row.secret_encrypted), code, now)
    return step is not None and _take_step(app_row, step, now)


# ----- setting it up -----

@dataclass(frozen=True)
class SetUp:
    """What the set-up page shows: the QR code (SVG) and the same key as text."""
    row_id: int
    key_text: str  # the key in groups of four, for typing
    qr_svg: str


def start_setup(user):
    """A new key for the account, waiting for its first correct code; replaces any unfinished
    set-up (an app already on keeps working until the new one is confirmed)."""
    db.session.execute(delete(AuthenticatorApp).where(AuthenticatorApp.user_id == user.id,
                                                      AuthenticatorApp.confirmed_at.is_(None)))
    row = AuthenticatorApp(user_id=user.id, secret_encrypted=encrypt(pyotp.random_base32()),
                           created_at=utcnow())
    db.session.add(row)
    db.session.commit()
    return row


def pending_setup(user, now=None):
    """The account's unfinished set-up, if it is recent enough to finish."""
    row = db.session.scalar(select(AuthenticatorApp).where(
        AuthenticatorApp.user_id == user.id, AuthenticatorApp.confirmed_at.is_(None))
        .order_by(AuthenticatorApp.id.desc()).limit(1))
    if row is None or (now or utcnow()) - as_utc(row.created_at) > SETUP_LIFETIME:
        return None
    return row


def setup_shown(user, row):
    secret = decrypt(row.secret_encrypted)
    uri = pyotp.TOTP(secret, digits=DIGITS).provisioning_uri(name=user.email, issuer_name=ISSUER)
    svg = segno.make(uri, error="m").svg_inline(
        scale=4, border=4, dark="#000", light="#fff", omitsize=True, svgclass="qr-code",
        lineclass=None)
    return SetUp(row.id, " ".join(secret[i:i + 4] for i in range(0, len(secret), 4)), svg)


def confirm_setup(user, text, now=None):
    """Turns the unfinished set-up on with its first correct code; the account's earlier app
    (a previous phone) stops working. Raises CodeRefused. The caller commits."""
    code = normalised_code(text)
    now = now or utcnow()
    row = pending_setup(user, now)
    if row is None:
        raise CodeRefused("That set-up has expired or was finished in another window. Start "
                          "again with Set up authenticator app.")
    step = matching_step(decrypt(row.secret_encrypted), code, now)
    if step is None:
        raise CodeRefused(WRONG_CODE)
    replaced = db.session.execute(delete(AuthenticatorApp).where(
        AuthenticatorApp.user_id == user.id, AuthenticatorApp.id != row.id)).rowcount
    row.confirmed_at, row.last_used_step, row.last_used_at = now, step, now
    audit.record(actions.TWO_STEP_APP_ADDED, actor=user, after={"replaced_earlier_app": bool(replaced)})
    return row


def remove(user):
    """Removes the account's app (and any unfinished set-up); the caller commits. True if an
    app was on."""
    was_on = confirmed_app(user) is not None
    db.session.execute(delete(AuthenticatorApp).where(AuthenticatorApp.user_id == user.id))
    if was_on:
        audit.record(actions.TWO_STEP_APP_REMOVED, actor=user)
    return was_on
