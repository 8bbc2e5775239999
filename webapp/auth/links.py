"""Which platform account a Microsoft account signs in to, and the ways into an account.

A Microsoft account is known by its tenant id and object id (tid + oid) only. It is linked when
the person linked it themselves (microsoft_sign_in_links: from Sign-in and security, or an
invitation), or when a school's user sync manages that person (synced_people holds each synced
person's Microsoft id and tenant, and their membership). Nothing here creates an account.

A user sync's record opens only an account whose every active membership that sync holds: the
sync matches an existing account by email address, and a tenant's admin can give one of their
own Microsoft users anybody's address (Microsoft: the email claim is not for authorisation), so
a school's sync must never become a way into an account that other schools admitted. Such a
person links the Microsoft account themselves, signed in, once (Sign-in and security).
"""
from dataclasses import dataclass

from sqlalchemy import select

from webapp import audit
from webapp.audit import actions
from webapp.auth.models import MicrosoftSignInLink, User
from webapp.clock import utcnow
from webapp.errors import ServiceError
from webapp.extensions import db
from webapp.orgs.models import Membership, Organisation
from webapp.user_sync.models import SyncedPerson

ALREADY_LINKED_ELSEWHERE = ("That Microsoft account is already linked to another rostersync "
                            "account, so it was not linked to yours. Sign in to the other account "
                            "and unlink it there first, or use a different Microsoft account.")
ONLY_WAY_IN = ("This Microsoft account is the only way into your rostersync account, so it stays "
               "linked. Set a password first (above), then unlink it.")


@dataclass(frozen=True)
class LinkShown:
    """One way in through Microsoft, as Sign-in and security lists it."""
    id: int  # 0 for a link the user sync manages (it cannot be unlinked here)
    username: str
    tenant_id: str
    by_sync_of: str = ""  # the school whose user sync links this person
    last_used_at: object = None


# Why a Microsoft account opens no platform account (sign_in_account).
NOT_LINKED, SEVERAL, ALSO_ELSEWHERE = "not_linked", "several", "also_elsewhere"


@dataclass(frozen=True)
class SignInAccount:
    user: object = None   # the User it opens, or None
    refusal: str = None   # NOT_LINKED, SEVERAL or ALSO_ELSEWHERE when user is None


def sign_in_account(microsoft_account):
    """The platform account this Microsoft account signs in to, or why none."""
    user_ids = linked_account_ids(microsoft_account)
    if not user_ids:
        return SignInAccount(refusal=NOT_LINKED)
    if len(user_ids) > 1:
        return SignInAccount(refusal=SEVERAL)
    if _own_link(microsoft_account.tenant_id, microsoft_account.object_id) is None and \
            not _sync_holds_every_membership(user_ids[0], microsoft_account.tenant_id,
                                             microsoft_account.object_id):
        return SignInAccount(refusal=ALSO_ELSEWHERE)
    return SignInAccount(user=db.session.get(User, user_ids[0]))


def account_for(microsoft_account):
    """The platform account linked to this Microsoft account, or None."""
    return sign_in_account(microsoft_account).user


def _sync_holds_every_membership(user_id, tenant_id, object_id):
    """Whether each of the account's active memberships is one that the user sync manages for
    this Microsoft account (else another school admitted the account: the sync cannot open it)."""
    held = select(SyncedPerson.membership_id).where(
        SyncedPerson.tenant_id == tenant_id, SyncedPerson.microsoft_id == object_id,
        SyncedPerson.membership_id.isnot(None))
    return db.session.scalar(select(Membership.id).where(
        Membership.user_id == user_id, Membership.status == "active",
        Membership.id.not_in(held)).limit(1)) is None


def linked_account_ids(microsoft_account):
    """The accounts this Microsoft account leads to: the person's own link, else each account
    the user sync holds it for (when that is more than one, it signs in to none)."""
    link = _own_link(microsoft_account.tenant_id, microsoft_account.object_id)
    if link is not None:
        return [link.user_id]
    return sorted(set(db.session.scalars(
        select(Membership.user_id).join(SyncedPerson, SyncedPerson.membership_id == Membership.id)
        .where(SyncedPerson.tenant_id == microsoft_account.tenant_id,
               SyncedPerson.microsoft_id == microsoft_account.object_id))))


def _own_link(tenant_id, object_id):
    return db.session.scalar(select(MicrosoftSignInLink).where(
        MicrosoftSignInLink.tenant_id == tenant_id, MicrosoftSignInLink.object_id == object_id))


def note_sign_in(user, microsoft_account):
    """Keeps the name shown for the person's own link current; the caller commits."""
    link = _own_link(microsoft_account.tenant_id, microsoft_account.object_id)
    if link is not None and link.user_id == user.id:
        link.username = microsoft_account.username or link.username
        link.last_used_at = utcnow()


def link(user, microsoft_account, organisation_id=None):
    """Links a Microsoft account to user (they proved both); returns True if it is new.
    Raises ServiceError when it already leads to another account. The caller commits."""
    current = account_for(microsoft_account)
    if current is not None and current.id != user.id:
        raise ServiceError(ALREADY_LINKED_ELSEWHERE)
    if current is not None:
        note_sign_in(user, microsoft_account)
        return False
    db.session.add(MicrosoftSignInLink(
        user_id=user.id, tenant_id=microsoft_account.tenant_id,
        object_id=microsoft_account.object_id, username=microsoft_account.username,
        created_at=utcnow()))
    audit.record(actions.MICROSOFT_LINKED, organisation_id, actor=user,
                 after={"microsoft_account": microsoft_account.username,
                        "tenant_id": microsoft_account.tenant_id})
    return True


def unlink(user, link_id):
    """Unlinks one of the person's own links, unless it is their only way in."""
    row = db.session.get(MicrosoftSignInLink, link_id)
    if row is None or row.user_id != user.id:
        raise ServiceError("That Microsoft account is not linked to yours (any more).")
    if not has_another_way_in(user, except_link_id=row.id):
        raise ServiceError(ONLY_WAY_IN)
    audit.record(actions.MICROSOFT_UNLINKED, actor=user,
                 before={"microsoft_account": row.username, "tenant_id": row.tenant_id})
    db.session.delete(row)
    db.session.commit()
    return row.username


def links_of(user):
    """The person's ways in through Microsoft: their own links, then the user sync's."""
    own = db.session.scalars(select(MicrosoftSignInLink).where(
        MicrosoftSignInLink.user_id == user.id).order_by(MicrosoftSignInLink.id)).all()
    shown = [LinkShown(row.id, row.username, row.tenant_id, last_used_at=row.last_used_at)
             for row in own]
    known = {(row.tenant_id, row.object_id) for row in own}
    for person, school in db.session.execute(
            select(SyncedPerson, Organisation.name)
            .join(Membership, SyncedPerson.membership_id == Membership.id)
            .join(Organisation, Organisation.id == Membership.organisation_id)
            .where(Membership.user_id == user.id, Membership.status == "active",
                   SyncedPerson.tenant_id.isnot(None)).order_by(Organisation.name)):
        if (person.tenant_id, person.microsoft_id) not in known and _sync_holds_every_membership(
                user.id, person.tenant_id, person.microsoft_id):
            known.add((person.tenant_id, person.microsoft_id))
            shown.append(LinkShown(0, person.email, person.tenant_id, by_sync_of=school))
    return shown


def has_another_way_in(user, except_link_id=None):
    """A password, or a Microsoft link other than except_link_id."""
    return bool(user.password_hash) or any(shown.id != except_link_id for shown in links_of(user))


def has_a_way_in(user):
    return bool(user.password_hash) or bool(links_of(user))
