"""One-time links: an invitation (7 days) or a password reset (1 hour), usable once.

A link's token is made when its email is sent (webapp.notifications.account_mail) and exists
only in that email: the one_time_tokens row keeps its SHA-256 hash (the token is 256 random bits,
so a plain hash is enough), committed just before the mail goes so the link works when it
arrives. Sending again replaces the hash, so only the newest email's link works. Tokens never
go into logs, audit entries or error reports.
"""
import hashlib
import re
import secrets
from datetime import timedelta

from sqlalchemy import select, update

from webapp.auth.models import OneTimeToken
from webapp.clock import as_utc, utcnow
from webapp.extensions import db

INVITATION, PASSWORD_RESET = "invitation", "password_reset"
LIFETIMES = {INVITATION: timedelta(days=7), PASSWORD_RESET: timedelta(hours=1)}
# What a link can be wrong with; each has its own page (templates/auth/_link_problem.html).
UNKNOWN, WRONG_PURPOSE, USED, EXPIRED, REVOKED = "unknown", "wrong_purpose", "used", "expired", \
    "revoked"
# Why a link was revoked (one_time_tokens.revoked_reason).
REPLACED, CANCELLED, REMOVED, PASSWORD_CHANGED = "replaced", "cancelled", "removed", \
    "password_changed"
TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{20,100}$")


class LinkProblem(Exception):
    """The link cannot be used: code is one of UNKNOWN ... REVOKED; row is the link, if known."""

    def __init__(self, code, row=None):
        super().__init__(code)
        self.code, self.row = code, row


def hash_of(token):
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def new_token():
    """(the token for the email, its hash for the row)."""
    token = secrets.token_urlsafe(32)
    return token, hash_of(token)


def issue(purpose, user, organisation=None, created_by=None, now=None):
    """A new link for user (no token yet: its email makes one); the caller commits."""
    now = now or utcnow()
    row = OneTimeToken(purpose=purpose, user_id=user.id, created_at=now,
                       expires_at=now + LIFETIMES[purpose],
                       organisation_id=organisation.id if organisation is not None else None,
                       created_by_user_id=created_by.id if created_by is not None else None)
    db.session.add(row)
    return row


def find(token, purpose, now=None):
    """The open link this token belongs to, or LinkProblem saying what is wrong with it."""
    token = (token or "").strip()
    row = db.session.scalar(select(OneTimeToken).where(
        OneTimeToken.token_hash == hash_of(token))) if TOKEN_SHAPE.match(token) else None
    if row is None:
        raise LinkProblem(UNKNOWN)
    if row.purpose != purpose:
        raise LinkProblem(WRONG_PURPOSE, row)
    return check_open(row, now)


def check_open(row, now=None):
    """row, if it is unused, not revoked and not expired; else LinkProblem saying which."""
    if row.used_at is not None:
        raise LinkProblem(USED, row)
    if row.revoked_at is not None:
        raise LinkProblem(REVOKED, row)
    if as_utc(row.expires_at) <= (now or utcnow()):
        raise LinkProblem(EXPIRED, row)
    return row


def use(row, now=None):
    """Marks the link used, once: a second use racing this one gets LinkProblem(USED). The
    caller commits, with whatever the link was used for."""
    taken = db.session.execute(update(OneTimeToken).where(
        OneTimeToken.id == row.id, OneTimeToken.used_at.is_(None),
        OneTimeToken.revoked_at.is_(None)).values(used_at=now or utcnow())).rowcount
    if taken != 1:
        raise LinkProblem(USED, row)


def revoke_open(user_id, purpose, reason, organisation_id=None, now=None):
    """Revokes the account's open links of one purpose (of one school, if given); the caller
    commits. Returns how many."""
    stmt = update(OneTimeToken).where(OneTimeToken.user_id == user_id,
                                      OneTimeToken.purpose == purpose,
                                      OneTimeToken.used_at.is_(None),
                                      OneTimeToken.revoked_at.is_(None))
    if organisation_id is not None:
        stmt = stmt.where(OneTimeToken.organisation_id == organisation_id)
    return db.session.execute(stmt.values(revoked_at=now or utcnow(),
                                          revoked_reason=reason)).rowcount


def settle_invitations(user, now=None):
    """Signing in settles the account's open invitations: the person got in."""
    db.session.execute(update(OneTimeToken).where(
        OneTimeToken.user_id == user.id, OneTimeToken.purpose == INVITATION,
        OneTimeToken.used_at.is_(None), OneTimeToken.revoked_at.is_(None))
        .values(used_at=now or utcnow()))


def latest_invitations(organisation_id, user_ids):
    """{user_id: their newest invitation to this school} for the people on a page."""
    rows = db.session.scalars(select(OneTimeToken).where(
        OneTimeToken.organisation_id == organisation_id, OneTimeToken.purpose == INVITATION,
        OneTimeToken.user_id.in_(list(user_ids))).order_by(OneTimeToken.id)).all()
    return {row.user_id: row for row in rows}
