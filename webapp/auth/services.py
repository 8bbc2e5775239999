"""Signing in with a password: one neutral answer for every kind of failure.

authenticate() only checks; webapp.auth.sessions.complete_sign_in() is what signs someone in.
"""
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
    if ratelimit.is_locked_out(email_normalised, address):
        _record_failure(email_normalised, "locked_out")
        raise TooManyAttempts(
            "Too many failed sign-in attempts. Wait "
            f"{ratelimit.lockout_minutes()} minutes and try again, or ask your administrator.")
    user = find_user_by_email(email_normalised) if len(email_normalised) <= EMAIL_MAX_LENGTH \
        else None
    password = password or ""
    if user is None or len(password) > PASSWORD_MAX_LENGTH * 8 \
            or not user.check_password(password) or not user.active_memberships():
        ratelimit.count_attempt(email_normalised, address)
        _record_failure(email_normalised, "refused")
        raise SignInRefused(NEUTRAL_FAILURE)
    if not status.is_on(user):  # else only a right second step clears them (webapp.two_step)
        ratelimit.clear_account_failures(email_normalised)
    return user


def _record_failure(email_normalised, reason):
    """Who tried is the address typed (and its account, if one has it); never the password."""
    user = find_user_by_email(email_normalised) if email_normalised else None
    audit.record(actions.SIGN_IN_FAILED, actor=user, actor_email=email_normalised[:320] or None,
                 after={"reason": reason}, commit=True)
