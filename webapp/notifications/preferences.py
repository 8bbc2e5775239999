"""Each admin's choice of emails: every kind is on unless they turned it off."""
from sqlalchemy import delete, select

from webapp.extensions import db
from webapp.notifications.events import ADMIN_EVENTS
from webapp.notifications.models import DigestSubscription, NotificationOptOut


def enabled_events(user_id):
    off = set(db.session.scalars(select(NotificationOptOut.event).where(
        NotificationOptOut.user_id == user_id)))
    return {event for event in ADMIN_EVENTS if event not in off}


def save_enabled_events(user_id, chosen):
    """chosen: the event codes whose boxes were ticked (unknown codes are ignored)."""
    db.session.execute(delete(NotificationOptOut).where(NotificationOptOut.user_id == user_id))
    for event in ADMIN_EVENTS:
        if event not in chosen:
            db.session.add(NotificationOptOut(user_id=user_id, event=event))
    db.session.commit()


def digest_subscription(user_id):
    return db.session.scalar(select(DigestSubscription).where(DigestSubscription.user_id == user_id))


def save_digest_choice(user_id, organisation_id, wanted):
    """The weekly digest on (its Monday 07:00 in this organisation's time zone) or off. Ticking
    it again keeps the first subscription, so a digest already due is not pushed back a week."""
    found = digest_subscription(user_id)
    if wanted and found is None:
        db.session.add(DigestSubscription(user_id=user_id, organisation_id=organisation_id))
    elif wanted:
        found.organisation_id = organisation_id
    elif found is not None:
        db.session.delete(found)
    db.session.commit()
