"""Emails about one person's own account: an invitation, "you were added to", a password reset,
"your two-step verification was reset".

They go through the notification delivery like every other email (a notification_events row,
the quick queue, retried while the mail server is down, never sent inside a request), to the
one person the event names. A link's token is made as its mail is composed, and its hash
committed before the mail goes, so the link works the moment it arrives (webapp.auth.tokens).
Without MAIL_SERVER, outside production, the mail goes to the log with its link, so `make run`
can follow an invitation; in production without MAIL_SERVER no link is made at all (the log
would be the only copy).
"""
import json
import logging
from flask import current_app

from webapp.auth import microsoft
from webapp.auth.models import OneTimeToken, User
from webapp.auth.tokens import new_token
from webapp.clock import as_utc, utcnow
from webapp.dates import format_moment
from webapp.extensions import db
from webapp.logs import DEVELOPMENT_LINK
from webapp.notifications import events
from webapp.notifications.mailer import mail_configured
from webapp.notifications.messages import Mail, PreparedMail, external_url

INVITATION, ADDED, PASSWORD_RESET = "account_invitation", "account_added", "password_reset"
TWO_STEP_RESET = "two_step_reset"
EVENTS = (INVITATION, ADDED, PASSWORD_RESET, TWO_STEP_RESET)
NOT_CONFIGURED = ("This email was not sent: email is not set up on this installation "
                  "(MAIL_SERVER), so it carries no link.")
log = logging.getLogger(__name__)


def send_invitation(row):
    """Queues the invitation mail of a committed invitation row."""
    _raise(row.user_id, row.organisation_id, INVITATION, f"invitation:{row.id}",
           {"user_id": row.user_id, "token_id": row.id})


def send_added(user, organisation, added_by=None):
    """"You were added to ...": for a person who can already sign in."""
    _raise(user.id, organisation.id, ADDED, f"added:{organisation.id}:{utcnow().isoformat()}",
           {"user_id": user.id, "added_by": added_by.name_or_email if added_by else ""})


def send_password_reset(row):
    _raise(row.user_id, None, PASSWORD_RESET, f"reset:{row.id}",
           {"user_id": row.user_id, "token_id": row.id})


def send_two_step_reset(user, organisation=None, reset_by=None):
    """"Your two-step verification was reset", by an admin of organisation (or an operator)."""
    _raise(user.id, organisation.id if organisation else None, TWO_STEP_RESET,
           f"two-step-reset:{user.id}:{utcnow().isoformat()}",
           {"user_id": user.id, "reset_by": reset_by.name_or_email if reset_by else ""})


def _raise(user_id, organisation_id, event, dedupe_key, payload):
    events.raise_event(organisation_id, event, dedupe_key, utcnow().date(), payload,
                       user_id=user_id)


def links_may_be_logged(config):
    return not mail_configured(config) and config.get("ENV_NAME") != "production"


def prepare(row, organisation, now):
    """The mail for an account event and what to record once it is sent; None: nobody to send
    to (the account was deleted, or the link was cancelled before its mail went)."""
    payload = json.loads(row.payload or "{}")
    user = db.session.get(User, payload.get("user_id") or 0)
    if user is None:
        return None
    if row.event == ADDED:
        return PreparedMail([user.email], _added_mail(user, organisation, payload))
    if row.event == TWO_STEP_RESET:
        return PreparedMail([user.email], _two_step_reset_mail(organisation, payload))
    link = db.session.get(OneTimeToken, payload.get("token_id") or 0)
    if link is None or not link.is_open or as_utc(link.expires_at) <= now:
        return None
    return _with_link(user, link, organisation)


def _with_link(user, link, organisation):
    config = current_app.config
    compose = _invitation_mail if link.purpose == "invitation" else _reset_mail
    if not mail_configured(config) and not links_may_be_logged(config):
        return PreparedMail([user.email], compose(user, link, organisation, ""))
    token, token_hash = new_token()
    endpoint = "invitations.accept" if link.purpose == "invitation" else "auth.reset_password"
    url = external_url(endpoint, token=token)
    mail = compose(user, link, organisation, url)

    def keep_hash():
        link.token_hash = token_hash

    def record_sent(now):
        link.sent_at = now
        if links_may_be_logged(config):
            log.warning("%s for %s, not emailed (MAIL_SERVER is not set). Open this link to "
                        "follow it: %s", mail.subject, user.email, url,
                        extra={DEVELOPMENT_LINK: True})
    return PreparedMail([user.email], mail, record_sent, keep_hash)


# Offered only where Sign in with Microsoft is set up (auth.microsoft.is_configured).
_OR_MICROSOFT = ", or to sign in with your school Microsoft account instead"


def _invitation_mail(user, link, organisation, url):
    school = organisation.name if organisation else "rostersync"
    inviter = link.created_by.name_or_email if link.created_by else "Your rostersync administrator"
    until = format_moment(link.expires_at, organisation)
    return Mail(
        subject=f"{inviter} invited you to {school} on rostersync",
        headline=f"{inviter} added you to {school} on rostersync.",
        paragraphs=[f"Open the link to choose a password{_OR_MICROSOFT if microsoft.is_configured() else ''}. "
                    f"It works once, until {until}.",
                    "If you weren't expecting this, you can ignore this email."]
        + ([] if url else [NOT_CONFIGURED]),
        action_label="Set your password", action_url=url)


def _reset_mail(user, link, organisation, url):
    until = format_moment(link.expires_at, None)
    return Mail(
        subject="Choose a new rostersync password",
        headline="Someone, hopefully you, asked to reset the password of your rostersync account.",
        paragraphs=[f"The link works once, until {until} (one hour). Choosing a new password "
                    "signs your account out everywhere else.",
                    "If you didn't ask for this, ignore this email: your password stays as it is."]
        + ([] if url else [NOT_CONFIGURED]),
        action_label="Choose a new password", action_url=url)


def _added_mail(user, organisation, payload):
    school = organisation.name if organisation else "a school"
    who = payload.get("added_by") or "Your rostersync administrator"
    return Mail(subject=f"You were added to {school} on rostersync",
                headline=f"{who} added you to {school} on rostersync.",
                paragraphs=["Sign in as you usually do; the name at the top of each page "
                            "switches between your schools."],
                action_label="Sign in", action_url=external_url("auth.login"))


def _two_step_reset_mail(organisation, payload):
    who = payload.get("reset_by") or "A rostersync operator"
    where = f" of {organisation.name}" if organisation else ""
    return Mail(subject="Your rostersync two-step verification was reset",
                headline=f"{who}{where} reset the two-step verification of your rostersync "
                         "account.",
                paragraphs=["Your authenticator app, passkeys and recovery codes no longer work "
                            "for rostersync, and your account was signed out everywhere. Sign in "
                            "with your password; if your school requires two-step verification, "
                            "you will be asked to set it up again straight away.",
                            "If you did not ask for this, tell your school's IT team now, and "
                            "change your password on Sign-in and security."],
                action_label="Sign in", action_url=external_url("auth.login"))
