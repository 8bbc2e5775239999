"""The second step of a sign-in two-step protects (a password, or a Microsoft account of a tenant
that is not the school's: webapp.two_step.policy.two_step_protects), for an account with
two-step verification on.

After the first step the browser holds only "password (or this Microsoft account) done for
account N, at T" in its (signed) cookie session: nobody is signed in, so every other route
treats it as signed out. Only the second-step pages read it, for PENDING_MINUTES. A right code,
passkey or recovery code then completes the sign-in (webapp.auth.sessions.complete_sign_in,
which clears this state) with the first step's method and Microsoft account; wrong ones count
towards the same lock-out as wrong passwords (webapp.auth.ratelimit, per account and per
network address), which the password step does not clear for such an account.
"""
import hashlib
import hmac
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from flask import current_app, session

from webapp import audit
from webapp.audit import actions
from webapp.auth import ratelimit
from webapp.auth.microsoft import MicrosoftAccount
from webapp.auth.models import User
from webapp.auth.sessions import MICROSOFT, PASSWORD, leave_sign_in
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.two_step import authenticator, passkeys, recovery_codes, status

PENDING_KEY = "second_step_pending"
PENDING_MINUTES = 10


class StepRefused(Exception):
    """str() is for the page; status is 401 (wrong) or 429 (locked out)."""

    def __init__(self, message, status_code=401):
        super().__init__(message)
        self.status_code = status_code


@dataclass(frozen=True)
class Pending:
    user: User
    next_url: str
    method: str = PASSWORD
    microsoft_account: MicrosoftAccount = None  # of a Microsoft sign-in, for its session


def begin(user, next_url, method=PASSWORD, microsoft_account=None):
    """The first step was right: this browser may now give the second step, for a while."""
    leave_sign_in()  # whoever this browser was signed in as before, it is not now
    session[PENDING_KEY] = {"user_id": user.id, "next": (next_url or "")[:2000],
                            "since": utcnow().isoformat(), "method": method,
                            "microsoft": asdict(microsoft_account) if microsoft_account else None,
                            "password": _password_mark(user)}


def _password_mark(user):
    """Which password the account had when the first step was taken (an HMAC of its hash, never
    the hash, in the cookie): a new password (reset or changed) voids a sign-in waiting for its
    second step, which the old password began (and the reset had given fresh guesses)."""
    return hmac.new(current_app.secret_key.encode("utf-8"),
                    (user.password_hash or "").encode("utf-8"), hashlib.sha256).hexdigest()


def _first_step(state):
    """(method, MicrosoftAccount or None) the pending state names, or None if it names none."""
    method, account = state.get("method", PASSWORD), state.get("microsoft")
    if method == PASSWORD and account is None:
        return method, None
    if method != MICROSOFT or not isinstance(account, dict):
        return None
    try:
        return method, MicrosoftAccount(**{key: str(value) for key, value in account.items()})
    except TypeError:
        return None


def pending():
    """The sign-in waiting for its second step in this browser, or None (none, too old, or the
    account can no longer sign in or no longer has two-step)."""
    state = session.get(PENDING_KEY)
    if not isinstance(state, dict) or not isinstance(state.get("user_id"), int):
        return None
    try:
        since = datetime.fromisoformat(str(state.get("since")))
    except ValueError:
        return None
    first_step = _first_step(state)
    user = db.session.get(User, state["user_id"])
    if utcnow() - since > timedelta(minutes=PENDING_MINUTES) or user is None \
            or first_step is None or not user.active_memberships() or not status.is_on(user) \
            or not hmac.compare_digest(str(state.get("password")), _password_mark(user)):
        session.pop(PENDING_KEY, None)
        return None
    return Pending(user, str(state.get("next") or ""), *first_step)


def _not_locked_out(user, address, attempt=True):
    """attempt: an answer about to be checked, counted first (ratelimit.reserve_attempt);
    otherwise only whether the account may still try."""
    allowed = ratelimit.reserve_attempt(user.email_normalised, address) if attempt \
        else not ratelimit.is_locked_out(user.email_normalised, address)
    if not allowed:
        _record_failure(user, "locked_out")
        raise StepRefused(f"Too many wrong attempts. Wait {ratelimit.lockout_minutes()} minutes "
                          "and try again, or ask your administrator.", 429)


def _wrong(user, address, reason, message):
    _record_failure(user, reason)  # counted when reserved
    raise StepRefused(message)


def _not_an_answer(user, address, problem, status_code):
    """Refused before any check (a malformed code, a service down): no wrong attempt."""
    ratelimit.release_attempt(user.email_normalised, address)
    raise StepRefused(str(problem), status_code)


def _record_failure(user, reason):
    """Why, never what was typed."""
    audit.record(actions.SIGN_IN_FAILED, actor=user, after={"reason": reason, "step": "second"},
                 commit=True)


def verify_code(waiting, text, address):
    """The authenticator app's code; returns status.APP or raises StepRefused."""
    user = waiting.user
    _not_locked_out(user, address)
    try:
        right = authenticator.check_code(user, text)
    except authenticator.CodeRefused as problem:
        _not_an_answer(user, address, problem, 422)
    except authenticator.SecretUnreadable as problem:
        _not_an_answer(user, address, problem, 503)
    if not right:
        db.session.rollback()
        _wrong(user, address, "wrong_code", authenticator.WRONG_CODE)
    return _done(user, address, status.APP)


def verify_recovery_code(waiting, text, address):
    user = waiting.user
    _not_locked_out(user, address)
    if not recovery_codes.use(user, text):
        db.session.rollback()
        _wrong(user, address, "wrong_recovery_code",
               "That is not one of your recovery codes, or it was used already (each works "
               "once). Check it and try again.")
    return _done(user, address, status.RECOVERY_CODE)


def passkey_options(waiting, address):
    _not_locked_out(waiting.user, address, attempt=False)
    try:
        return passkeys.authentication_options(waiting.user)
    except passkeys.PasskeysUnavailable as problem:
        raise StepRefused(str(problem), 503) from None


def verify_passkey(waiting, credential_json, address):
    user = waiting.user
    _not_locked_out(user, address)
    try:
        passkeys.authenticate(user, credential_json)
    except passkeys.PasskeysUnavailable as problem:
        _not_an_answer(user, address, problem, 503)
    except passkeys.PasskeyRefused as refusal:
        db.session.rollback()
        _wrong(user, address, "passkey_refused", str(refusal))
    return _done(user, address, status.PASSKEY)


def _done(user, address, kind):
    """The second step was right: the account's failed attempts are forgotten (the network
    address's are not). complete_sign_in commits what the step changed."""
    ratelimit.release_attempt(user.email_normalised, address)
    ratelimit.clear_account_failures(user.email_normalised)
    return kind
