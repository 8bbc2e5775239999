"""Invitations: how a person added on Manage users (or by `user create`) gets in.

A person who cannot sign in yet (no password, no Microsoft link) is mailed a link, valid 7 days
and usable once, to set a password or to sign in with Microsoft instead; a person who already
can is told they were added. Manage users shows the invitation until it is accepted, with
Resend and Cancel. Cancelling, or removing the person, revokes the link.
"""
from dataclasses import dataclass

from webapp import audit
from webapp.audit import actions
from webapp.auth import links, microsoft, tokens
from webapp.auth.models import OneTimeToken
from webapp.auth.passwords import set_new_password
from webapp.clock import as_utc, utcnow
from webapp.errors import ServiceError
from webapp.extensions import db
from webapp.notifications import account_mail
from webapp.notifications.account_mail import links_may_be_logged
from webapp.notifications.mailer import mail_configured
from webapp.orgs.services import membership_for

INVITED, TOLD = "invited", "told"
VALID_DAYS = tokens.LIFETIMES[tokens.INVITATION].days
PENDING, EXPIRED = "pending", "expired"


@dataclass(frozen=True)
class InvitationState:
    state: str  # PENDING or EXPIRED
    expires_at: object
    sent_at: object


def invite_or_tell(user, organisation, inviter=None):
    """After a membership is committed: an invitation, or "you were added" for a person who
    can already sign in. Returns INVITED or TOLD."""
    if links.has_a_way_in(user):
        account_mail.send_added(user, organisation, inviter)
        return TOLD
    _send_new_invitation(user, organisation, inviter, actions.INVITED)
    return INVITED


def _send_new_invitation(user, organisation, inviter, action):
    tokens.revoke_open(user.id, tokens.INVITATION, tokens.REPLACED, organisation.id)
    row = tokens.issue(tokens.INVITATION, user, organisation, inviter)
    audit.record(action, organisation.id, actor=inviter, subject_user_id=user.id,
                 subject_label=user.email, after={"valid_until": row.expires_at.isoformat()})
    db.session.commit()
    account_mail.send_invitation(row)
    return row


def invitation_states(organisation, memberships):
    """{membership id: InvitationState} for the people on a Manage users page who were invited
    and have not got in yet."""
    latest = tokens.latest_invitations(organisation.id, [m.user_id for m in memberships])
    now, states = utcnow(), {}
    for membership in memberships:
        row = latest.get(membership.user_id)
        if row is not None and row.is_open:
            expired = as_utc(row.expires_at) <= now
            states[membership.id] = InvitationState(EXPIRED if expired else PENDING,
                                                    row.expires_at, row.sent_at)
    return states


def _open_invitation_of(organisation, membership):
    row = tokens.latest_invitations(organisation.id, [membership.user_id]).get(membership.user_id)
    if row is None or not row.is_open:
        raise ServiceError(f"{membership.user.email} has no invitation waiting: they have "
                           "already got in, or were never invited.")
    return row


def resend(organisation, membership, actor):
    """A fresh link (7 days from now); the old one stops working."""
    _open_invitation_of(organisation, membership)
    return _send_new_invitation(membership.user, organisation, actor, actions.INVITATION_RESENT)


def cancel(organisation, membership, actor):
    """Revokes the link and takes the person off the school (they never got in)."""
    _open_invitation_of(organisation, membership)
    tokens.revoke_open(membership.user_id, tokens.INVITATION, tokens.CANCELLED, organisation.id)
    email = membership.user.email
    audit.record(actions.INVITATION_CANCELLED, organisation.id, actor=actor,
                 subject_user_id=membership.user_id, subject_label=email)
    db.session.delete(membership)
    db.session.commit()
    return email


def open_invitation(token, now=None):
    """The invitation this link opens, its membership still there and active; else LinkProblem."""
    return _usable(tokens.find(token, tokens.INVITATION, now))


def _usable(row):
    tokens.check_open(row)
    membership = membership_for(row.user, row.organisation) if row.organisation else None
    if membership is None or membership.status != "active":
        raise tokens.LinkProblem(tokens.REVOKED, row)
    return row


def accept_with_password(token, password, confirmation):
    """Sets the invited person's password and uses the link; returns the account."""
    row = open_invitation(token)
    user = row.user
    set_new_password(user, password, confirmation, [row.organisation.name], link=row)
    tokens.settle_invitations(user)  # to the person's other schools too: they are in
    _record_accepted(row, "password")
    db.session.commit()
    return user


def accept_with_microsoft(invitation_id, microsoft_account):
    """Links the Microsoft account the invited person signed in with and uses the link.
    Raises LinkProblem if the invitation stopped being usable meanwhile, ServiceError if that
    Microsoft account already leads to someone else."""
    row = db.session.get(OneTimeToken, invitation_id)
    if row is None or row.purpose != tokens.INVITATION:
        raise tokens.LinkProblem(tokens.UNKNOWN)
    _usable(row)
    links.link(row.user, microsoft_account, row.organisation_id)
    tokens.use(row)
    tokens.settle_invitations(row.user)
    _record_accepted(row, "microsoft")
    db.session.commit()
    return row.user


def _record_accepted(row, method):
    audit.record(actions.INVITATION_ACCEPTED, row.organisation_id, actor=row.user,
                 subject_user_id=row.user_id, subject_label=row.user.email,
                 after={"method": method})


def renew_expired(token):
    """"Email me a new invitation" from an expired link: to the same address, once per link."""
    try:
        tokens.find(token, tokens.INVITATION)
    except tokens.LinkProblem as problem:
        if problem.code != tokens.EXPIRED:
            raise
        row = problem.row
    else:
        raise ServiceError("This invitation is still valid: open it to set your password.")
    membership = membership_for(row.user, row.organisation) if row.organisation else None
    if membership is None or membership.status != "active":
        raise tokens.LinkProblem(tokens.REVOKED, row)
    if links.has_a_way_in(row.user):
        raise tokens.LinkProblem(tokens.USED, row)
    return _send_new_invitation(row.user, row.organisation, row.created_by,
                                actions.INVITATION_RESENT)


def sent_message(email, organisation_name, outcome, config):
    """What the admin (or operator) is told after adding someone: what was mailed, or why not."""
    if outcome == TOLD:
        return (f"{email} already has a rostersync account, so we've emailed them that they "
                f"were added to {organisation_name}.")
    if mail_configured(config):
        either = " (or sign in with Microsoft)" if microsoft.is_configured(config) else ""
        return (f"We've emailed {email} an invitation to set a password{either}; the link works "
                f"once, for {VALID_DAYS} days.")
    if links_may_be_logged(config):
        return (f"Email is not set up (no MAIL_SERVER), so the invitation for {email} was "
                "written to the log instead: open the link from there.")
    return (f"Email is not set up on this installation (MAIL_SERVER), so no invitation could be "
            f"sent to {email}. Ask your rostersync operator to set up email, then press Resend "
            "invitation.")
