"""Signing in with a password: one neutral answer for every kind of failure.

authenticate() only checks; webapp.auth.sessions.complete_sign_in() is what signs someone in.
"""
import functools
import secrets

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from webapp import audit
from webapp.audit import actions
from webapp.auth import ratelimit
from webapp.auth.models import normalise_email
from webapp.auth.passwords import MAX_LENGTH as PASSWORD_MAX_LENGTH
from webapp.orgs.services import EMAIL_MAX_LENGTH, find_user_by_email
from webapp.two_step import status

NEUTRAL_FAILURE = "That email and password don't match an active account. Check them and try again."


class SignInRefused(Exception):
    pass


class TooManyAttempts(Exception):
    pass


def authenticate(email, password, address):
    """Returns the user, or raises SignInRefused / TooManyAttempts with a message for the page."""
    email_normalised = normalise_email(email)[:EMAIL_MAX_LENGTH + 1]
    if not ratelimit.reserve_attempt(email_normalised, address):
        _record_failure(email_normalised, "locked_out")
        raise TooManyAttempts(
            "Too many failed sign-in attempts. Wait "
            f"{ratelimit.lockout_minutes()} minutes and try again, or ask your administrator.")
    user = find_user_by_email(email_normalised) if len(email_normalised) <= EMAIL_MAX_LENGTH \
        else None
    password = password or ""
    matches = len(password) <= PASSWORD_MAX_LENGTH * 8 and password_matches(user, password)
    if not matches or not user.active_memberships():
        _record_failure(email_normalised, "refused")  # counted when reserved
        raise SignInRefused(NEUTRAL_FAILURE)
    ratelimit.release_attempt(email_normalised, address)
    if not status.is_on(user):  # else only a right second step clears them (webapp.two_step)
        ratelimit.clear_account_failures(email_normalised)
    return user


def password_matches(user, password):
    """Whether the account's password is this one. With no account, or one without a password
    (invited), a stand-in hash is checked all the same: the sign-in then takes as long as for a
    real account, whose scrypt check once made it 15 times slower, telling which addresses
    have an account."""
    if user is not None and user.password_hash:
        return user.check_password(password)
    check_password_hash(_stand_in_hash(current_app.config["PASSWORD_HASH_METHOD"]), password)
    return False


@functools.cache
def _stand_in_hash(method):
    return generate_password_hash(secrets.token_urlsafe(16), method=method)


def _record_failure(email_normalised, reason):
    """Who tried is the address typed (and its account, if one has it); never the password."""
    user = find_user_by_email(email_normalised) if email_normalised else None
    audit.record(actions.SIGN_IN_FAILED, actor=user, actor_email=email_normalised[:320] or None,
                 after={"reason": reason}, commit=True)
