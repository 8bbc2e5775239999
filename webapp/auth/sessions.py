"""Sessions: each sign-in is a row in account_sessions; the cookie holds only its id.

`complete_sign_in` is the one way anyone becomes signed in. The password form, Sign in with
Microsoft and an accepted invitation all end there, and so should any later step (a second
factor): check what you need first, then call it.

Every request checks its row (`user_for_request`, the login manager's user loader). A session
stops at its next request once it was ended (signed out, "Sign out other sessions", a password
change or reset), after SESSION_IDLE_MINUTES without a request, SESSION_MAX_DAYS after signing
in, or when the account has no active organisation left (a leaver the sync suspended, a person
removed from every school).
"""
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, g, request, session
from flask_login import login_user
from sqlalchemy import select, update

from webapp import audit
from webapp.audit import actions
from webapp.auth.models import AccountSession, User
from webapp.auth.tokens import settle_invitations
from webapp.clock import as_utc, utcnow
from webapp.extensions import db
from webapp.orgs.context import default_organisation_id
from webapp.orgs.services import has_active_membership
from webapp.words import counted

SESSION_KEY = "account_session_id"
MICROSOFT_ACCOUNT_KEY = "microsoft_account"
PASSWORD, MICROSOFT = "password", "microsoft"
METHOD_LABELS = {PASSWORD: "Password", MICROSOFT: "Microsoft"}
SECOND_STEP_LABELS = {"app": "authenticator app", "passkey": "passkey",
                      "recovery_code": "recovery code"}
# Why a session ended (account_sessions.end_reason).
SIGNED_OUT, SIGNED_OUT_ELSEWHERE, PASSWORD_CHANGED = "signed_out", "signed_out_elsewhere", \
    "password_changed"
TWO_STEP_RESET, TWO_STEP_TURNED_ON = "two_step_reset", "two_step_turned_on"
IDLE, TOO_OLD, NO_ORGANISATION, UNKNOWN = "idle", "too_old", "no_organisation", "unknown"
END_MESSAGES = {
    SIGNED_OUT_ELSEWHERE: "You were signed out from another session of your account (Sign out "
                          "other sessions). Sign in again to carry on.",
    PASSWORD_CHANGED: "You were signed out because your password was changed. Sign in with the "
                      "new password to carry on.",
    IDLE: "You were signed out after a while without using rostersync. Sign in again to carry on.",
    TOO_OLD: "Your sign-in has reached its time limit, so you were signed out. Sign in again to "
             "carry on.",
    NO_ORGANISATION: "You were signed out: your account no longer has access to any school in "
                     "rostersync. If that is a mistake, ask your school's rostersync administrator.",
    TWO_STEP_RESET: "You were signed out because your two-step verification was reset. Sign in "
                    "with your password to carry on.",
    TWO_STEP_TURNED_ON: "You were signed out because two-step verification was turned on for "
                        "your account. Sign in with your password and your second step to "
                        "carry on.",
}
# last_seen_at is written at most this often, not on every request.
TOUCH_EVERY = timedelta(seconds=60)
RECENT_SIGN_INS = 10


def request_address():
    return (request.remote_addr or "")[:64] or None


def complete_sign_in(user, method, microsoft_account=None, second_step=None):
    """Signs user in on this browser with a fresh cookie session; returns the session row.
    microsoft_account: the webapp.auth.microsoft.MicrosoftAccount of a Microsoft sign-in.
    second_step: how the second step was made (SECOND_STEP_LABELS), if one was asked."""
    now = utcnow()
    _end_browser_sign_in(now)
    row = AccountSession(user_id=user.id, method=method, second_step=second_step,
                         microsoft_tenant_id=microsoft_account.tenant_id if microsoft_account
                         else None, address=request_address(), created_at=now, last_seen_at=now)
    db.session.add(row)
    settle_invitations(user, now)
    audit.record(actions.SIGN_IN, actor=user, after={"method": method, **(
        {"second_step": second_step} if second_step else {})})
    db.session.commit()
    session.clear()  # nothing from before signing in carries over
    login_user(user)
    session[SESSION_KEY] = row.id
    if microsoft_account and microsoft_account.username:
        session[MICROSOFT_ACCOUNT_KEY] = microsoft_account.username[:320]
    session["org_id"] = default_organisation_id(user)
    return row


def signed_in_microsoft_account():
    """The Microsoft account this session signed in with, if it did (Connect's login_hint)."""
    return session.get(MICROSOFT_ACCOUNT_KEY)


def current_session_id():
    return session.get(SESSION_KEY)


def current_session_row():
    """This browser's session row, as the user loader read it at this request."""
    row = g.get("account_session_row")
    if row is not None:
        return row
    row_id = session.get(SESSION_KEY)
    return db.session.get(AccountSession, row_id) if isinstance(row_id, int) else None


def user_for_request(user_id):
    """The login manager's user loader: the account, if this browser's session is still good."""
    row_id = session.get(SESSION_KEY)
    row = db.session.get(AccountSession, row_id) if isinstance(row_id, int) else None
    user = db.session.get(User, user_id)
    now = utcnow()
    reason = ended_because(row, user, user_id, now)
    if reason is not None:
        if row is not None and row.ended_at is None:
            _write(update(AccountSession).where(AccountSession.id == row.id,
                                                AccountSession.ended_at.is_(None))
                   .values(ended_at=now, end_reason=reason))
        forget_sign_in()
        g.session_end_reason = reason
        return None
    if now - as_utc(row.last_seen_at) >= TOUCH_EVERY:
        _write(update(AccountSession).where(AccountSession.id == row.id).values(last_seen_at=now))
    g.account_session_row = row  # for current_session_row, without reading it again
    return user


def ended_because(row, user, user_id, now):
    """None while the session may go on; otherwise why it ends (an END_MESSAGES key or other)."""
    if row is None or user is None or row.user_id != user_id:
        return UNKNOWN
    if row.ended_at is not None:
        return row.end_reason or UNKNOWN
    if _idle(row, now):
        return IDLE
    if _too_old(row, now):
        return TOO_OLD
    if not has_active_membership(user_id):
        return NO_ORGANISATION
    return None


def session_end_message():
    """What to tell someone whose session just ended at this request, if it did."""
    return END_MESSAGES.get(g.get("session_end_reason"))


def leave_sign_in():
    """A new sign-in begins on this browser (its second step is asked): whoever it was signed
    in as before is signed out, their session ended, not left "Still signed in"."""
    _end_browser_sign_in(utcnow())
    db.session.commit()
    forget_sign_in()


def _end_browser_sign_in(now, reason=SIGNED_OUT):
    """Ends the session this browser holds, if any (the caller commits)."""
    row_id = session.get(SESSION_KEY)
    if isinstance(row_id, int):
        db.session.execute(update(AccountSession).where(
            AccountSession.id == row_id, AccountSession.ended_at.is_(None))
            .values(ended_at=now, end_reason=reason))


def forget_sign_in():
    """Drops the sign-in from the cookie (the CSRF token and flashes stay for this request)."""
    for key in ("_user_id", "_fresh", "_id", "_remember", SESSION_KEY, MICROSOFT_ACCOUNT_KEY,
                "org_id"):
        session.pop(key, None)


def _write(statement):
    """Runs a small update; commits it only when the request has nothing else pending, so a
    user loader never commits half of someone else's work."""
    clean = not (db.session.new or db.session.dirty or db.session.deleted)
    db.session.execute(statement)
    if clean:
        db.session.commit()


def end_this_session(reason=SIGNED_OUT):
    _end_browser_sign_in(utcnow(), reason)
    db.session.commit()


def end_sessions(user, reason, keep_session_id=None):
    """Ends every open session of the account but keep_session_id; the caller commits.
    Returns how many ended."""
    stmt = update(AccountSession).where(AccountSession.user_id == user.id,
                                        AccountSession.ended_at.is_(None))
    if keep_session_id is not None:
        stmt = stmt.where(AccountSession.id != keep_session_id)
    return db.session.execute(stmt.values(ended_at=utcnow(), end_reason=reason)).rowcount


def sign_out_other_sessions(user):
    """Sign out other sessions, from Sign-in and security; returns how many were signed out."""
    ended = end_sessions(user, SIGNED_OUT_ELSEWHERE, keep_session_id=current_session_id())
    audit.record(actions.OTHER_SESSIONS_SIGNED_OUT, actor=user, after={"sessions": ended})
    db.session.commit()
    return ended


def open_sessions_elsewhere(user):
    """Sessions of the account, other than this one, that have not ended (nor run out)."""
    now = utcnow()
    rows = db.session.scalars(select(AccountSession).where(
        AccountSession.user_id == user.id, AccountSession.ended_at.is_(None),
        AccountSession.id != (current_session_id() or 0))).all()
    return [row for row in rows if not _timed_out(row, now)]


@dataclass(frozen=True)
class SignInShown:
    """One line of "Last sign-ins": when, how, from where, and what became of it."""
    at: object
    how: str
    address: str
    now: str


def recent_sign_ins(user, limit=RECENT_SIGN_INS):
    rows = db.session.scalars(select(AccountSession).where(AccountSession.user_id == user.id)
                              .order_by(AccountSession.created_at.desc(), AccountSession.id.desc())
                              .limit(limit)).all()
    this, now = current_session_id(), utcnow()
    return [SignInShown(row.created_at, how_signed_in(row), row.address or "Not known",
                        _state_of(row, this, now)) for row in rows]


def how_signed_in(row):
    """"Password", "Microsoft", "Password and authenticator app"."""
    how = METHOD_LABELS.get(row.method, row.method)
    second = SECOND_STEP_LABELS.get(row.second_step or "")
    return f"{how} and {second}" if second else how


def _state_of(row, this_session_id, now):
    if row.id == this_session_id:
        return "This session"
    if row.ended_at is not None:
        return "Signed out"
    if _timed_out(row, now):
        return "Timed out"
    return "Still signed in"


def _idle(row, now):
    return now - as_utc(row.last_seen_at) > timedelta(
        minutes=current_app.config["SESSION_IDLE_MINUTES"])


def _too_old(row, now):
    return now - as_utc(row.created_at) > timedelta(days=current_app.config["SESSION_MAX_DAYS"])


def _timed_out(row, now):
    return _idle(row, now) or _too_old(row, now)


def limits_text(config=None):
    """"after 12 hours without use, and 14 days after signing in"."""
    config = config or current_app.config
    minutes = config["SESSION_IDLE_MINUTES"]
    idle = counted(minutes // 60, "hour") if minutes % 60 == 0 else counted(minutes, "minute")
    return f"after {idle} without use, and {counted(config['SESSION_MAX_DAYS'], 'day')} after signing in"
