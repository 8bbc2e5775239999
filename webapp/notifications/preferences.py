"""Each admin's choice of emails: every kind is on unless they turned it off."""
from sqlalchemy import delete, select

from webapp import versions
from webapp.auth.models import User
from webapp.extensions import db
from webapp.notifications.events import ADMIN_EVENTS
from webapp.notifications.models import DigestSubscription, NotificationOptOut


def enabled_events(user_id):
    off = set(db.session.scalars(select(NotificationOptOut.event).where(
        NotificationOptOut.user_id == user_id)))
    return {event for event in ADMIN_EVENTS if event not in off}


def preferences_version(user_id, organisation_id):
    """A person's choice of emails (organisation_id: the school whose page shows it)."""
    return versions.of_user(user_id, "notifications", organisation_id)


def save_choices(user_id, organisation_id, chosen, weekly_digest, expected_version=None):
    """chosen: the event codes whose boxes were ticked (unknown codes are ignored);
    weekly_digest: the digest box; expected_version: the form's (versions.ChangedSince if saved
    since); None without a form. One transaction."""
    versions.claim(preferences_version(user_id, organisation_id), expected_version,
                   db.session.get(User, user_id))
    db.session.execute(delete(NotificationOptOut).where(NotificationOptOut.user_id == user_id))
    for event in ADMIN_EVENTS:
        if event not in chosen:
            db.session.add(NotificationOptOut(user_id=user_id, event=event))
    _set_digest(user_id, organisation_id, weekly_digest)
    db.session.commit()


def digest_subscription(user_id):
    return db.session.scalar(select(DigestSubscription).where(DigestSubscription.user_id == user_id))


def _set_digest(user_id, organisation_id, wanted):
    """The weekly digest on (its Monday 07:00 in this organisation's time zone) or off. Ticking
    it again keeps the first subscription, so a digest already due is not pushed back a week."""
    found = digest_subscription(user_id)
    if wanted and found is None:
        db.session.add(DigestSubscription(user_id=user_id, organisation_id=organisation_id))
    elif wanted:
        found.organisation_id = organisation_id
    elif found is not None:
        db.session.delete(found)
