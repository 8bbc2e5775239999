"""Forgot your password: the same answer, after the same work, whether or not the account exists.

The request only counts (per address typed and per network address, with the sign-in lock-out's
Redis counters) and queues a job; the job looks the address up and, for an account that can
sign in, mails a link valid 1 hour and usable once. Setting the new password uses the link,
revokes the account's other reset links and signs every session of the account out.
"""
from webapp import audit
from webapp.audit import actions
from webapp.auth import ratelimit, sessions, tokens
from webapp.auth.models import normalise_email
from webapp.auth.passwords import PasswordRefused, set_new_password
from webapp.auth.services import EMAIL_MAX_LENGTH
from webapp.clock import utcnow
from webapp.errors import ServiceError
from webapp.extensions import db
from webapp.notifications import account_mail
from webapp.orgs.services import find_user_by_email
from webapp.redis_conn import enqueue

RESET_JOB = "jobs.accounts.password_reset_requested_job"


class TooManyRequests(Exception):
    """str() says how long to wait."""


def neutral_answer(email):
    return (f"If an account exists for {email}, we've sent it a link to choose a new password. "
            "The link works once, for one hour. It can take a few minutes to arrive; check your "
            "junk folder too.")


def request_reset(email, address):
    """Counts and queues; raises ServiceError (not an address) or TooManyRequests."""
    email_normalised = normalise_email(email)
    if "@" not in email_normalised or len(email_normalised) > EMAIL_MAX_LENGTH:
        raise ServiceError("Enter the email address you sign in with, for example "
                           "name@school.org.uk (at most 320 characters).")
    account_over, address_over = ratelimit.over_limit(email_normalised, address,
                                                      ratelimit.RESET_REQUESTS)
    minutes = ratelimit.lockout_minutes(ratelimit.RESET_REQUESTS)
    if address_over:
        raise TooManyRequests(f"Too many password reset requests from your network. Wait "
                              f"{minutes} minutes and try again.")
    if account_over:
        raise TooManyRequests(f"Several links were asked for {email_normalised} already. Use "
                              f"the newest email, or wait {minutes} minutes and ask again.")
    ratelimit.count_attempt(email_normalised, address, ratelimit.RESET_REQUESTS)
    enqueue("quick", RESET_JOB, email_normalised, address or "", utcnow().isoformat(),
            description="password reset request")


def send_reset_link(email_normalised, address, now):
    """The job: a link for an account that can sign in; nothing for any other address."""
    user = find_user_by_email(email_normalised)
    if user is None or not user.active_memberships():
        audit.record(actions.RESET_REQUESTED, actor_email=email_normalised[:320],
                     after={"account": "none", "from": address}, commit=True)
        return None
    tokens.revoke_open(user.id, tokens.PASSWORD_RESET, tokens.REPLACED, now=now)
    row = tokens.issue(tokens.PASSWORD_RESET, user, now=now)
    audit.record(actions.RESET_REQUESTED, actor=user, after={"from": address})
    db.session.commit()
    account_mail.send_password_reset(row)
    return row.id


def open_reset(token):
    """The reset this link opens, for an account that can still sign in; else LinkProblem."""
    row = tokens.find(token, tokens.PASSWORD_RESET)
    if not row.user.active_memberships():
        raise tokens.LinkProblem(tokens.REVOKED, row)
    return row


def reset_password(token, password, confirmation):
    """Sets the new password, uses the link, signs every session out; returns the account."""
    row = open_reset(token)
    user = row.user
    set_new_password(user, password, confirmation, school_names(user), link=row)
    tokens.settle_invitations(user)  # they got in: an invitation left open would say Invited
    ended = sessions.end_sessions(user, sessions.PASSWORD_CHANGED)
    ratelimit.clear_account_failures(user.email_normalised)
    audit.record(actions.RESET_COMPLETED, actor=user, after={"sessions_signed_out": ended})
    db.session.commit()
    return user


def school_names(user):
    return [m.organisation.name for m in user.active_memberships()]


def change_password(user, current, password, confirmation, address):
    """Sign-in and security: needs the current password (if the account has one), counted
    like a sign-in attempt; signs the account's other sessions out. Raises PasswordRefused
    (with the field it belongs to) or TooManyRequests."""
    if user.password_hash:
        if not ratelimit.reserve_attempt(user.email_normalised, address):  # before the check
            raise TooManyRequests(f"Too many wrong passwords. Wait {ratelimit.lockout_minutes()} "
                                  "minutes and try again.")
        if not user.check_password((current or "")[:1024]):
            raise PasswordRefused("That is not your current password.", field="current")
        ratelimit.release_attempt(user.email_normalised, address)
    set_new_password(user, password, confirmation, school_names(user))
    ended = sessions.end_sessions(user, sessions.PASSWORD_CHANGED,
                                  keep_session_id=sessions.current_session_id())
    audit.record(actions.PASSWORD_CHANGED, actor=user, after={"sessions_signed_out": ended})
    db.session.commit()
    return ended


def set_password_by_operator(user, password):
    """`user create --password`: the operator sets the password as typed (no rule). For an
    existing account it is a reset like any other: its sessions and the links mailed before it
    are over, invitations too (a link still open would set another password over it). The
    caller commits."""
    user.set_password(password)
    if user.id is None:  # a new account: nothing to end
        return
    for purpose in (tokens.PASSWORD_RESET, tokens.INVITATION):
        tokens.revoke_open(user.id, purpose, tokens.PASSWORD_CHANGED)
    ended = sessions.end_sessions(user, sessions.PASSWORD_CHANGED)
    audit.record(actions.PASSWORD_CHANGED, subject_user_id=user.id, subject_label=user.email,
                 after={"by": "operator", "sessions_signed_out": ended})
