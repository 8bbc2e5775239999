"""Resetting someone's two-step verification when they lost their phone and their codes: by an
admin of their school who also administers every school they administer (Manage users), or by
an operator (`user reset-two-step EMAIL`).

Their app, passkeys and recovery codes are removed and every session of the account is signed
out; they sign in with their password alone (and are sent to set two-step up again if a school's
policy asks for it). It is audited, and they are mailed, so a reset they did not ask for is seen.
"""
from dataclasses import dataclass

from sqlalchemy import delete, select

from webapp import audit
from webapp.audit import actions
from webapp.auth import sessions
from webapp.errors import ServiceError
from webapp.extensions import db
from webapp.notifications import account_mail
from webapp.orgs.models import Membership, Organisation
from webapp.orgs.services import administered_ids, membership_for
from webapp.two_step import recovery_codes, status
from webapp.two_step.models import AuthenticatorApp, Passkey
from webapp.words import counted, listed


@dataclass(frozen=True)
class ResetDone:
    email: str
    had_app: bool
    passkeys: int
    codes: int
    sessions: int

    def describe(self):
        """"the authenticator app, 2 passkeys and 7 unused recovery codes"."""
        parts = ["the authenticator app"] if self.had_app else []
        if self.passkeys:
            parts.append(counted(self.passkeys, "passkey"))
        if self.codes:
            parts.append(counted(self.codes, "unused recovery code"))
        return listed(parts)


def reset_two_step(user, actor=None, organisation=None):
    """Removes every way the account verifies, signs it out everywhere, records and mails it.
    actor: the admin (None: an operator, from the command line). Raises ServiceError when the
    account has nothing to reset."""
    methods = status.methods_of(user)
    if not methods.is_on and not methods.codes_left:
        raise ServiceError(f"{user.email} does not use two-step verification, so there is "
                           "nothing to reset.")
    if actor is not None and actor.id == user.id:
        raise ServiceError("To change your own two-step verification, use Sign-in and security.")
    _refuse_if_not_in(user, organisation)
    refusal = beyond_reach_refusal(actor, user)
    if refusal:
        raise ServiceError(f"{refusal} Nothing was changed.")
    passkey_count = len(methods.passkeys)
    db.session.execute(delete(AuthenticatorApp).where(AuthenticatorApp.user_id == user.id))
    db.session.execute(delete(Passkey).where(Passkey.user_id == user.id))
    codes = recovery_codes.remove_all(user)
    ended = sessions.end_sessions(user, sessions.TWO_STEP_RESET)
    done = ResetDone(user.email, methods.app is not None, passkey_count, methods.codes_left,
                     ended)
    audit.record(actions.TWO_STEP_RESET, organisation.id if organisation else None, actor=actor,
                 subject_user_id=user.id, subject_label=user.email,
                 after={"authenticator_app": done.had_app, "passkeys": passkey_count,
                        "recovery_codes": codes, "sessions_signed_out": ended})
    db.session.commit()
    account_mail.send_two_step_reset(user, organisation, actor)
    return done


def _refuse_if_not_in(user, organisation):
    """A school's admins look after its people: not someone who left it (their two-step
    protects the schools they are still in)."""
    if organisation is None:
        return
    membership = membership_for(user, organisation)
    if membership is None or membership.status != "active":
        raise ServiceError(f"{user.email} is no longer in {organisation.name}, so its admins "
                           "cannot reset their two-step verification. An admin of a school they "
                           "are still in can, or your rostersync operator.")


def schools_beyond_reach(actor, user_ids):
    """{user id: names of the schools they are an active admin of and the actor is not}, for
    those who have any, in one query whatever their number (a page of Manage users). Their
    second step guards every school they administer, so an admin may reset it only when this
    names none: an admin of one school has no say over the others."""
    rows = db.session.execute(
        select(Membership.user_id, Organisation.name)
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .where(Membership.user_id.in_(list(user_ids)), Membership.role == "admin",
               Membership.status == "active",
               Membership.organisation_id.not_in(administered_ids(actor.id)))
        .order_by(Organisation.name, Organisation.id))
    beyond = {}
    for user_id, name in rows:
        beyond.setdefault(user_id, []).append(name)
    return beyond


def beyond_reach_refusal(actor, user):
    """Why the actor may not reset this person's two-step (None: they may; an operator, with
    no actor, always may)."""
    if actor is None:
        return None
    schools = schools_beyond_reach(actor, [user.id]).get(user.id)
    if not schools:
        return None
    named = schools[:3] + ([counted(len(schools) - 3, "other school")] if len(schools) > 3 else [])
    return (f"{user.name_or_email} also administers {listed(named)}, which you do not, so only "
            "an admin of every school they administer, or your rostersync operator (flask --app "
            f"wsgi user reset-two-step {user.email}), can reset their two-step verification.")
