"""A person's own two-step changes on Sign-in and security.

Turning it off, removing the last way to verify and making new recovery codes ask again for the
password, or a current code from the authenticator app; a wrong answer counts towards the same
lock-out as a wrong password. While a school's policy asks the account for two-step, the last way
to verify cannot be removed (nor two-step turned off).
"""
from sqlalchemy import select

from webapp import audit
from webapp.audit import actions
from webapp.auth import ratelimit, sessions
from webapp.auth.models import User
from webapp.errors import ServiceError
from webapp.extensions import db
from webapp.two_step import authenticator, passkeys, recovery_codes, status
from webapp.two_step.policy import schools_requiring
from webapp.words import listed

PASSWORD_FIELD_MAX_LENGTH = 1024


class NotConfirmed(ServiceError):
    """The password (or code) asked for again was missing or wrong; str() is for the page."""


class TooManyAttempts(ServiceError):
    """Locked out, as after wrong passwords; str() says how long to wait."""


def confirm_it_is_you(user, password, code, address):
    """Passes with the account's password or a current authenticator code; else raises
    NotConfirmed (counted like a wrong password) or TooManyAttempts."""
    typed = bool(password or code)
    # An answer is counted before it is checked (ratelimit.reserve_attempt): answers sent at
    # once were otherwise all checked.
    if (not ratelimit.reserve_attempt(user.email_normalised, address)) if typed \
            else ratelimit.is_locked_out(user.email_normalised, address):
        raise TooManyAttempts(f"Too many wrong attempts. Wait {ratelimit.lockout_minutes()} "
                              "minutes and try again.")
    if not typed:
        raise NotConfirmed("To do that, type your password (or a code from your authenticator "
                           "app) first.")
    if (password and user.check_password(password[:PASSWORD_FIELD_MAX_LENGTH])) or (
            code and _code_is_right(user, code)):
        ratelimit.release_attempt(user.email_normalised, address)
        return
    raise NotConfirmed("That password or code is not right. Type your rostersync password, "
                       "or the code your authenticator app shows now.")


def _code_is_right(user, code):
    try:
        return authenticator.check_code(user, code)
    except authenticator.CodeRefused:
        return False


def _refuse_if_required(user, what):
    schools = schools_requiring(user)
    if schools:
        raise ServiceError(f"{listed(schools)} require{'s' if len(schools) == 1 else ''} "
                           f"admins to use two-step verification, so you cannot {what}. Add "
                           "another way to verify first (a passkey, or the app on a new phone).")


def _methods_locked(user):
    """The account's ways to verify, its row locked until the commit: two tabs removing the
    app and the last passkey at once would each count two and skip the last one's checks."""
    db.session.execute(select(User.id).where(User.id == user.id).with_for_update())
    return status.methods_of(user)


def remove_app(user, password, code, address):
    """Removes the authenticator app; as the last way to verify, only with the password again
    (and never while a policy needs it)."""
    methods = _methods_locked(user)
    if methods.app is None:
        raise ServiceError("The authenticator app is not set up for your account.")
    if methods.method_count == 1:
        _refuse_if_required(user, "remove your only way to verify")
        confirm_it_is_you(user, password, code, address)
        _turn_off(user, methods)
    else:
        authenticator.remove(user)
    db.session.commit()


def remove_passkey(user, passkey_id, password, code, address):
    """Removes a passkey; returns its name. As the last way to verify, as remove_app."""
    methods = _methods_locked(user)
    if passkey_id not in {row.id for row in methods.passkeys}:
        raise ServiceError("That passkey is not one of yours (any more).")
    if methods.method_count == 1:
        _refuse_if_required(user, "remove your only way to verify")
        confirm_it_is_you(user, password, code, address)
    name = passkeys.remove(user, passkey_id)
    if methods.method_count == 1:
        _turn_off(user, methods, passkeys_removed=False)
    db.session.commit()
    return name


def new_recovery_codes(user, password, code, address):
    """Ten new codes; the old ones stop working. Returns them (shown once)."""
    if not status.is_on(user):
        raise ServiceError("Recovery codes come with two-step verification: turn it on first.")
    confirm_it_is_you(user, password, code, address)
    codes = recovery_codes.replace_all(user)
    db.session.commit()
    return codes


def turn_off(user, password, code, address):
    methods = _methods_locked(user)
    if not methods.is_on:
        raise ServiceError("Two-step verification is already off for your account.")
    _refuse_if_required(user, "turn it off")
    confirm_it_is_you(user, password, code, address)
    _turn_off(user, methods)
    db.session.commit()


def _turn_off(user, methods, passkeys_removed=True):
    authenticator.remove(user)
    if passkeys_removed:
        for row in methods.passkeys:
            passkeys.remove(user, row.id)
    recovery_codes.remove_all(user)
    audit.record(actions.TWO_STEP_TURNED_OFF, actor=user)


def sign_out_others_as_it_turns_on(user, was_on):
    """Two-step just turned on (its first app or passkey; was_on: before it): the account's
    other sessions end, in the caller's transaction. Each began with the password alone, which
    two-step is there to stop being enough (someone who learnt it would stay signed in).
    Returns how many ended."""
    if was_on:
        return 0
    ended = sessions.end_sessions(user, sessions.TWO_STEP_TURNED_ON,
                                  keep_session_id=sessions.current_session_id())
    if ended:
        audit.record(actions.OTHER_SESSIONS_SIGNED_OUT, actor=user,
                     after={"sessions": ended, "because": "two-step verification turned on"})
    return ended
