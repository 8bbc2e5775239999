"""Recovery codes: ten single-use codes, each 16 characters of Crockford's base32 (80 random
bits), shown once as xxxx-xxxx-xxxx-xxxx and kept only as SHA-256 hashes. Making new ones
replaces them all. Typing is forgiving: case, spaces and hyphens do not matter, and o, i and l
are read as 0, 1 and 1."""
import hashlib
import secrets

from sqlalchemy import delete, func, select, update

from webapp import audit
from webapp.audit import actions
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.two_step.models import RecoveryCode

COUNT = 10
ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
LENGTH, GROUP = 16, 4
MAX_LENGTH = 32  # what the field takes: the code with its hyphens, and spaces around them
_READ_AS = str.maketrans({"o": "0", "i": "1", "l": "1"})


def hash_of(normalised):
    return hashlib.sha256(normalised.encode("ascii")).hexdigest()


def normalised(text):
    """The code's 16 characters, or None if what was typed cannot be a recovery code."""
    code = "".join((text or "")[:MAX_LENGTH * 2].lower().split()).replace("-", "")
    code = code.translate(_READ_AS)
    if len(code) != LENGTH or any(character not in ALPHABET for character in code):
        return None
    return code


def _new_code():
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return "-".join(raw[i:i + GROUP] for i in range(0, LENGTH, GROUP))


def replace_all(user, actor=None):
    """Ten new codes for the account (the old ones stop working); returns them, the only time
    they exist outside the person's hands. The caller commits."""
    now = utcnow()
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [_new_code() for _ in range(COUNT)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=hash_of(normalised(code)),
                                    created_at=now) for code in codes)
    audit.record(actions.RECOVERY_CODES_GENERATED, actor=actor or user, after={"count": COUNT})
    return codes


def use(user, text):
    """Uses up one of the account's codes; True if text was one not used before. The caller
    commits."""
    code = normalised(text)
    if code is None:
        return False
    taken = db.session.execute(update(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.code_hash == hash_of(code),
        RecoveryCode.used_at.is_(None)).values(used_at=utcnow())).rowcount == 1
    if taken:
        audit.record(actions.RECOVERY_CODE_USED, actor=user, after={"left": left(user)})
    return taken


def left(user):
    return db.session.scalar(select(func.count(RecoveryCode.id)).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)))


def remove_all(user):
    return db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id)).rowcount
