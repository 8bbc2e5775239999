"""A person's data on request: everything held about one person in one organisation.

Built from the tables themselves (every column, bar secrets), so a new column shows up in the
export without anyone remembering to add it. Other people stay out: an audit entry about this
person done by someone else says that it happened, not who did it.
"""
from datetime import date, datetime

from sqlalchemy import inspect, or_, select

from webapp import audit
from webapp.audit import actions
from webapp.audit.models import AuditEntry
from webapp.auth.models import AccountSession, MicrosoftSignInLink, OneTimeToken, User
from webapp.clock import utcnow
from webapp.errors import NotFound
from webapp.extensions import db
from webapp.microsoft.models import ConnectAttempt
from webapp.microsoft.selection import GroupChoice
from webapp.orgs.models import Membership
from webapp.user_sync.models import PriorValues, SyncChange, SyncRun, SyncedPerson

SECRET_COLUMNS = {"password_hash", "token_cache_encrypted", "token_hash"}
ACTOR_COLUMNS = ("actor_user_id", "actor_email", "ip", "request_id")


class Subject:
    """The person asked about: their account (if any) and their synced-person rows here."""

    def __init__(self, organisation, user, people):
        self.organisation, self.user, self.people = organisation, user, people
        self.person_ids = [p.id for p in people]
        self.microsoft_ids = [p.microsoft_id for p in people if p.microsoft_id]

    @property
    def label(self):
        if self.user is not None:
            return self.user.email
        return self.people[0].email if self.people else ""


def subject_for_membership(organisation, membership_id):
    membership = db.session.get(Membership, membership_id)
    if membership is None or membership.organisation_id != organisation.id:
        raise NotFound("That person is not in this organisation.")
    people = db.session.scalars(select(SyncedPerson).where(
        SyncedPerson.organisation_id == organisation.id,
        SyncedPerson.membership_id == membership.id)).all()
    return Subject(organisation, membership.user, people)


def subject_for_synced_person(organisation, person_id):
    person = db.session.get(SyncedPerson, person_id)
    if person is None or person.organisation_id != organisation.id:
        raise NotFound("That person is not synced to this organisation.")
    membership = db.session.get(Membership, person.membership_id) if person.membership_id else None
    if membership is None:
        return Subject(organisation, None, [person])
    return subject_for_membership(organisation, membership.id)


def row_dict(row, hide=()):
    values = {}
    for column in inspect(type(row)).columns:
        if column.key in SECRET_COLUMNS or column.key in hide:
            continue
        values[column.key] = _plain(getattr(row, column.key))
    if isinstance(row, User):
        values["password_set"] = bool(row.password_hash)
    return values


def _plain(value):
    return value.isoformat() if isinstance(value, (datetime, date)) else value


def _rows(model, *where):
    return db.session.scalars(select(model).where(*where).order_by(model.id)).all()


def _history(subject):
    if not subject.person_ids and not subject.microsoft_ids:
        return []
    runs = select(SyncRun.id).where(SyncRun.organisation_id == subject.organisation.id)
    about = [SyncChange.synced_person_id.in_(subject.person_ids)]
    if subject.microsoft_ids:
        about.append(SyncChange.microsoft_id.in_(subject.microsoft_ids))
    return _rows(SyncChange, SyncChange.run_id.in_(runs), or_(*about))


def _prior_values(subject):
    """Their values just before each run that changed them (what Undo this sync restores)."""
    if not subject.person_ids:
        return []
    runs = select(SyncRun.id).where(SyncRun.organisation_id == subject.organisation.id)
    return _rows(PriorValues, PriorValues.run_id.in_(runs),
                 PriorValues.synced_person_id.in_(subject.person_ids))


def _audit_entries(subject):
    user_id = subject.user.id if subject.user else None
    about = [AuditEntry.subject_synced_person_id.in_(subject.person_ids)]
    if user_id is not None:
        about += [AuditEntry.subject_user_id == user_id, AuditEntry.actor_user_id == user_id]
    scope = or_(AuditEntry.organisation_id == subject.organisation.id,
                AuditEntry.organisation_id.is_(None) & (AuditEntry.actor_user_id == user_id))
    entries = _rows(AuditEntry, scope, or_(*about))
    return [row_dict(e, hide=() if user_id is not None and e.actor_user_id == user_id
                     else ACTOR_COLUMNS) for e in entries]


def _acted_as(subject):
    """Records of what they did here as an admin (started a sync, connected, chose a group)."""
    if subject.user is None:
        return {}
    org_id, user_id = subject.organisation.id, subject.user.id
    return {
        "sync_runs": [row_dict(r) for r in _rows(SyncRun, SyncRun.organisation_id == org_id, or_(
            SyncRun.started_by_user_id == user_id, SyncRun.reviewed_by_user_id == user_id))],
        "connect_attempts": [row_dict(r) for r in _rows(
            ConnectAttempt, ConnectAttempt.organisation_id == org_id, ConnectAttempt.user_id == user_id)],
        "group_choices": [row_dict(r) for r in _rows(
            GroupChoice, GroupChoice.organisation_id == org_id, GroupChoice.chosen_by_user_id == user_id)],
    }


def _sign_in_records(subject):
    """Their account's sign-ins (when, how, from where), Microsoft sign-in links, and the links
    mailed to them (invitations to this school, password resets); no token, only the facts."""
    if subject.user is None:
        return {}
    user_id, org_id = subject.user.id, subject.organisation.id
    return {
        "account_sessions": [row_dict(r) for r in _rows(AccountSession,
                                                         AccountSession.user_id == user_id)],
        "microsoft_sign_in_links": [row_dict(r) for r in _rows(
            MicrosoftSignInLink, MicrosoftSignInLink.user_id == user_id)],
        "one_time_tokens": [row_dict(r, hide=("created_by_user_id",)) for r in _rows(
            OneTimeToken, OneTimeToken.user_id == user_id, or_(
                OneTimeToken.organisation_id == org_id, OneTimeToken.organisation_id.is_(None)))],
    }


def data_held(subject):
    """{"tables": {table name: [row, ...]}, ...}: the export, JSON-ready."""
    user = subject.user
    tables = {
        "users": [row_dict(user)] if user else [],
        "memberships": [row_dict(m) for m in _rows(
            Membership, Membership.organisation_id == subject.organisation.id,
            Membership.user_id == user.id)] if user else [],
        "synced_people": [row_dict(p) for p in subject.people],
        "sync_changes": [row_dict(c) for c in _history(subject)],
        "sync_prior_values": [row_dict(p) for p in _prior_values(subject)],
        "audit_entries": _audit_entries(subject),
        **_acted_as(subject),
        **_sign_in_records(subject),
    }
    return {"organisation": {"id": subject.organisation.id, "name": subject.organisation.name},
            "person": subject.label, "generated_at": utcnow().isoformat(), "tables": tables}


def export(subject):
    """The export, recorded in the audit log (counts only) in the same transaction."""
    held = data_held(subject)
    audit.record(actions.SUBJECT_ACCESS_EXPORTED, subject.organisation.id,
                 subject_user_id=subject.user.id if subject.user else None,
                 subject_synced_person_id=subject.person_ids[0] if subject.person_ids else None,
                 subject_label=subject.label,
                 after={name: len(rows) for name, rows in held["tables"].items()}, commit=True)
    return held
