"""One guard against two tabs silently overwriting each other's settings.

Each settings form carries the version of the settings it was drawn from (a hidden `version`
field). A save moves the version forward with a conditional UPDATE (`... WHERE number = the
form's`) inside the save's own transaction, before it writes anything: the row stays locked to
the commit, so of two saves drawn from the same version exactly one wins, and the other is
refused naming who changed the settings and when. Used by the group picker, the schedule, the
sync settings, leaver retention and notification preferences alike.
"""
from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from webapp.auth.models import User
from webapp.clock import utcnow
from webapp.dates import format_moment
from webapp.errors import ServiceError
from webapp.extensions import db
from webapp.orgs.models import Organisation

# A version field holds at most this many digits: far below what the column can count to.
MAX_DIGITS = 9


class SettingsVersion(db.Model):
    """How many times one set of settings was saved, and the last save's who and when."""
    __tablename__ = "settings_versions"

    id = db.Column(db.Integer, primary_key=True)
    # "org:12:schedule", "user:5:notifications": one row per set of settings.
    key = db.Column(db.String(80), nullable=False, unique=True)
    organisation_id = db.Column(db.Integer, db.ForeignKey("organisations.id", ondelete="CASCADE"),
                                index=True)
    owner_user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    number = db.Column(db.Integer, nullable=False)
    changed_by_user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"))
    changed_at = db.Column(db.DateTime(timezone=True), nullable=False)


VERSIONS = SettingsVersion.__table__


@dataclass(frozen=True)
class Settings:
    """One set of settings that forms save whole. organisation_id: whose clock a refusal tells
    the time in (for a person's own settings, the school of the page)."""
    key: str
    organisation_id: int
    owner_user_id: int = None


def of_organisation(organisation_id, name):
    """A school's settings: "groups", "schedule", "sync_settings", "retention"."""
    return Settings(f"org:{organisation_id}:{name}", organisation_id)


def of_user(user_id, name, organisation_id):
    """A person's own settings across their schools ("notifications")."""
    return Settings(f"user:{user_id}:{name}", organisation_id, owner_user_id=user_id)


class ChangedSince(ServiceError):
    """The settings were saved by someone else after this form was drawn; nothing was saved."""


def current(settings):
    """The version a form drawn now carries (0: never saved)."""
    return db.session.scalar(select(VERSIONS.c.number).where(VERSIONS.c.key == settings.key)) or 0


def posted(form):
    """The version a posted form was drawn from; a missing or forged one counts as 0, which only
    settings that were never saved accept."""
    text = (form.get("version") or "").strip()
    if text.isascii() and text.isdigit() and len(text) <= MAX_DIGITS:
        return int(text)
    return 0


def claim(settings, expected, user):
    """Moves the version forward inside the caller's transaction (the caller commits or rolls
    back). expected: the form's version; None for callers with no form (CLI, demo data), which
    save unconditionally. Raises ChangedSince when someone saved since `expected`."""
    values = {"number": VERSIONS.c.number + 1, "changed_at": utcnow(),
              "changed_by_user_id": user.id if user is not None else None}
    where = [VERSIONS.c.key == settings.key]
    if expected is not None:
        where.append(VERSIONS.c.number == expected)
    if db.session.execute(update(VERSIONS).where(*where).values(**values)).rowcount == 1:
        return
    if expected in (None, 0) and _first_save(settings, values):
        return
    if expected is None:  # another first save won the insert just now: count on from it
        db.session.execute(update(VERSIONS).where(*where).values(**values))
        return
    db.session.rollback()
    raise ChangedSince(changed_since_message(settings, user))


def _first_save(settings, values):
    """Inserts version 1; False when another save inserted it first (the unique key)."""
    owner = settings.owner_user_id  # a person's own settings go with them, not with a school
    row = {**values, "number": 1, "key": settings.key, "owner_user_id": owner,
           "organisation_id": None if owner is not None else settings.organisation_id}
    try:
        with db.session.begin_nested():
            db.session.execute(insert(VERSIONS).values(**row))
    except IntegrityError:
        return False
    return True


def changed_since_message(settings, user):
    row = db.session.execute(select(VERSIONS).where(VERSIONS.c.key == settings.key)).first()
    changed = "These settings changed"  # a forged version of settings never saved
    if row is not None:
        organisation = db.session.get(Organisation, settings.organisation_id)
        changed = (f"These settings were changed by {_who(row.changed_by_user_id, user)} at "
                   f"{format_moment(row.changed_at, organisation)}")
    return (f"{changed} since you opened this page, so your changes were not saved. They are "
            "shown below as they are now: make your change again if it is still needed.")


def _who(changer_id, user):
    changer = db.session.get(User, changer_id) if changer_id is not None else None
    if changer is None:
        return "someone"
    if user is not None and changer.id == user.id:
        return "you (in another tab or window)"
    return changer.name_or_email
