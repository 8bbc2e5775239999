"""Manage users: listing, adding, changing roles and removing people from an organisation."""
from sqlalchemy import func, or_, select
from sqlalchemy.orm import contains_eager

from webapp import audit
from webapp.audit import actions
from webapp.clock import utcnow
from webapp.auth import tokens
from webapp.auth.models import User
from webapp.errors import InvalidFields, NotFound, ServiceError
from webapp.extensions import db
from webapp.listing import Page, contains, page_within
from webapp.orgs.models import ROLES, Membership
from webapp.invitations import services as invitations
from webapp.orgs.services import add_membership, ensure_not_last_admin, get_or_create_user, \
    membership_for, person_errors
from webapp.user_sync.models import REMOVED_BY_ADMIN, SyncedPerson
from webapp.user_sync.people import forget_status_counts

PAGE_SIZE = 25


def list_people(organisation, query="", page=1, per_page=PAGE_SIZE):
    stmt = (select(Membership).join(Membership.user)
            .where(Membership.organisation_id == organisation.id))
    if query:
        query = query.strip().lower()
        stmt = stmt.where(or_(contains(func.lower(User.display_name), query),
                              contains(User.email_normalised, query)))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    page = page_within(page, total, per_page)
    rows = db.session.scalars(stmt.options(contains_eager(Membership.user))
                              .order_by(func.lower(User.display_name), User.email_normalised)
                              .limit(per_page).offset((page - 1) * per_page)).all()
    return Page(items=rows, page=page, per_page=per_page, total=total)


def add_person(organisation, email, display_name, role, added_by=None):
    """Adds the person and mails them an invitation (or "you were added", if they can already
    sign in). Returns (membership, invitations.INVITED or TOLD). Raises InvalidFields (email,
    display_name, role) and saves nothing on bad input."""
    errors = person_errors(email, display_name)
    if role not in ROLES:
        errors["role"] = "Choose a role: admin or member."
    if errors:
        raise InvalidFields(errors)
    user = get_or_create_user(email, display_name)
    existing = membership_for(user, organisation)
    if existing is not None and existing.status == "active":
        db.session.rollback()
        raise InvalidFields({"email": f"{user.email} is already in {organisation.name}."})
    membership = add_membership(user, organisation, role=role, source="manual")
    db.session.flush()  # a new account's id, for the audit entry
    audit.record(actions.PERSON_ADDED, organisation.id, subject_user_id=user.id,
                 subject_label=user.email, after={"role": role})
    db.session.commit()
    return membership, invitations.invite_or_tell(user, organisation, added_by)


def get_membership(organisation, membership_id):
    membership = db.session.get(Membership, membership_id)
    if membership is None or membership.organisation_id != organisation.id:
        raise NotFound("That person is not in this organisation.")
    return membership


def change_role(organisation, membership_id, role):
    if role not in ROLES:
        raise ServiceError("Choose a role: admin or member.")
    membership = get_membership(organisation, membership_id)
    if membership.role == "admin" and role != "admin":
        ensure_not_last_admin(membership)
    audit.record(actions.ROLE_CHANGED, organisation.id, subject_user_id=membership.user_id,
                 subject_label=membership.user.email, before={"role": membership.role},
                 after={"role": role})
    membership.role = role
    db.session.commit()
    return membership


def removal_consequences(organisation, membership):
    """What removing this membership does not do: a person user sync added comes back with the
    next sync while they are in the school's Microsoft groups, unless excluded from sync."""
    synced = db.session.scalar(select(SyncedPerson).where(
        SyncedPerson.organisation_id == organisation.id,
        SyncedPerson.membership_id == membership.id))
    return {"synced_person": synced, "group_name": synced.synced_via if synced else None,
            "sync_adds_back": synced is not None and not synced.excluded and synced.in_group}


def remove_person(organisation, membership_id):
    membership = get_membership(organisation, membership_id)
    ensure_not_last_admin(membership)
    name = membership.user.name_or_email
    tokens.revoke_open(membership.user_id, tokens.INVITATION, tokens.REMOVED, organisation.id)
    audit.record(actions.PERSON_REMOVED, organisation.id, subject_user_id=membership.user_id,
                 subject_label=membership.user.email, before={"role": membership.role})
    _no_longer_active_in_sync(organisation, membership)
    db.session.delete(membership)
    db.session.commit()
    forget_status_counts(organisation.id)
    return name


def _no_longer_active_in_sync(organisation, membership):
    """A synced person whose membership goes is not active: their row said Active (on their
    page, in the counts, in Why isn't this person synced?) until the next sync added them back."""
    synced = db.session.scalar(select(SyncedPerson).where(
        SyncedPerson.organisation_id == organisation.id,
        SyncedPerson.membership_id == membership.id, SyncedPerson.status == "active"))
    if synced is not None:
        synced.status, synced.suspended_reason = "suspended", REMOVED_BY_ADMIN
        synced.suspended_group, synced.suspended_at = None, utcnow()
