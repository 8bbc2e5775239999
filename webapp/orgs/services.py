"""Organisations, trusts and memberships: the rules shared by the web, the CLI and jobs."""
from collections import namedtuple

from sqlalchemy import exists, func, select

from webapp.auth.models import EMAIL_MAX_LENGTH, NAME_MAX_LENGTH, User, normalise_email
from webapp.errors import InvalidFields, ServiceError
from webapp.extensions import db
from webapp.orgs.models import ROLES, Membership, Organisation, Trust

ORGANISATION_NAME_MAX_LENGTH = 255  # the name columns of organisations and trusts


def find_organisation_by_name(name):
    return db.session.scalar(
        select(Organisation).where(func.lower(Organisation.name) == name.strip().lower()))


def find_or_create_trust(name):
    trust = db.session.scalar(select(Trust).where(func.lower(Trust.name) == name.strip().lower()))
    if trust is None:
        trust = Trust(name=name.strip())
        db.session.add(trust)
    return trust


def create_organisation(name, trust_name=None):
    name = (name or "").strip()
    if not name:
        raise ServiceError("An organisation needs a name.")
    for what, text in (("An organisation", name), ("A trust", (trust_name or "").strip())):
        if len(text) > ORGANISATION_NAME_MAX_LENGTH:
            raise ServiceError(f"{what}'s name has at most {ORGANISATION_NAME_MAX_LENGTH} "
                               f"characters; this one has {len(text):,}.")
    if find_organisation_by_name(name) is not None:
        raise ServiceError(f'An organisation called "{name}" already exists.')
    org = Organisation(name=name)
    if trust_name:
        org.trust = find_or_create_trust(trust_name)
    db.session.add(org)
    db.session.commit()
    return org


def find_user_by_email(email):
    return db.session.scalar(select(User).where(User.email_normalised == normalise_email(email)))


def person_errors(email, display_name):
    """{field: message} for an email and a name a person typed; empty when both will do."""
    email, errors = (email or "").strip(), {}
    # As stored: lower case can be longer (İ becomes i and a dot), past the column's length.
    longest = max(len(email), len(normalise_email(email)))
    if longest > EMAIL_MAX_LENGTH:
        errors["email"] = (f"An email address has at most {EMAIL_MAX_LENGTH} characters; this "
                           f"one has {longest:,}. Check what was pasted.")
    elif "@" not in email or len(email) < 3:
        errors["email"] = "Enter a valid email address, such as name@school.example."
    elif any(character.isspace() for character in email):
        errors["email"] = "An email address has no spaces: check what was typed."
    name = (display_name or "").strip()
    if len(name) > NAME_MAX_LENGTH:
        errors["display_name"] = (f"Enter a name of at most {NAME_MAX_LENGTH} characters; this "
                                  f"one has {len(name):,}.")
    return errors


def get_or_create_user(email, display_name=None):
    """The platform account for an email, creating it if new; never a duplicate. Raises
    InvalidFields (by field: email, display_name) for input it cannot store."""
    errors = person_errors(email, display_name)
    if errors:
        raise InvalidFields(errors)
    user = find_user_by_email(email)
    if user is None:
        user = User(display_name=(display_name or "").strip()[:NAME_MAX_LENGTH])
        user.set_email(email)
        db.session.add(user)
    elif display_name and not user.display_name:
        user.display_name = display_name.strip()[:NAME_MAX_LENGTH]
    return user


AccountSchool = namedtuple("AccountSchool", "organisation_id name role")


def schools_of(user):
    """AccountSchools of the account's active memberships, by name, in one query whatever their
    number (the header's school switcher names every one; a trust admin may have hundreds)."""
    # Plain tuples (a Row's attributes cost a microsecond each, hundreds of options times),
    # through the session's connection (the ORM's handling of each row costs as much again).
    return [AccountSchool(*school) for school in db.session.connection().execute(
        select(Membership.organisation_id, Organisation.name, Membership.role)
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .where(Membership.user_id == user.id, Membership.status == "active")
        .order_by(Organisation.name, Organisation.id))]


def has_active_membership(user_id):
    """Whether the account still has a school, asked of the database on every request: an
    EXISTS, not the account's memberships loaded (a trust admin has hundreds)."""
    return db.session.scalar(select(exists().where(Membership.user_id == user_id,
                                                   Membership.status == "active")))


def membership_for(user, organisation):
    if user is None or user.id is None:
        return None
    return db.session.scalar(select(Membership).where(
        Membership.user_id == user.id, Membership.organisation_id == organisation.id))


def add_membership(user, organisation, role="member", source="manual"):
    """Adds (or reactivates) a membership; returns it."""
    if role not in ROLES:
        raise ServiceError(f"Unknown role {role!r}.")
    membership = membership_for(user, organisation)
    if membership is None:
        membership = Membership(user=user, organisation=organisation, role=role, source=source)
        db.session.add(membership)
    else:
        membership.role = role
        membership.status = "active"
    return membership


def admin_count(organisation):
    return db.session.scalar(select(func.count(Membership.id)).where(
        Membership.organisation_id == organisation.id, Membership.role == "admin",
        Membership.status == "active"))


def ensure_not_last_admin(membership):
    if membership.role == "admin" and membership.status == "active" \
            and admin_count(membership.organisation) <= 1:
        raise ServiceError(
            f"{membership.user.name_or_email} is the last admin of "
            f"{membership.organisation.name}. Make someone else an admin first.")


def administered_ids(user_id):
    """SELECT of the ids of the organisations this account is an active admin of."""
    return select(Membership.organisation_id).where(
        Membership.user_id == user_id, Membership.role == "admin", Membership.status == "active")


def administered_of(schools):
    """The ids of the schools (schools_of's rows) the account is an admin of."""
    return [school.organisation_id for school in schools if school.role == "admin"]


def administers_several(schools):
    """The Schools page is for admins of two or more schools (schools: schools_of's rows)."""
    return len(administered_of(schools)) >= 2


def active_admins(organisation):
    """The school's active admins' memberships, by address."""
    return db.session.scalars(
        select(Membership).join(User, User.id == Membership.user_id)
        .where(Membership.organisation_id == organisation.id, Membership.role == "admin",
               Membership.status == "active").order_by(User.email_normalised)).all()
