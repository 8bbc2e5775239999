"""Per-organisation sync settings: include guests, and the removal safety threshold."""
from sqlalchemy import select

from webapp import audit
from webapp.audit import actions
from webapp.errors import ServiceError
from webapp.extensions import db
from webapp.user_sync.models import SyncSettings

DEFAULTS = {"include_guests": False, "removal_threshold_percent": 10,
            "removal_threshold_minimum": 5}


def settings_for(organisation_id):
    """The saved settings, or unsaved defaults (nothing is written just by reading)."""
    found = db.session.scalar(select(SyncSettings).where(
        SyncSettings.organisation_id == organisation_id))
    return found or SyncSettings(organisation_id=organisation_id, **DEFAULTS)


def save_settings(organisation_id, include_guests, percent, minimum):
    try:
        percent, minimum = int(percent), int(minimum)
    except (TypeError, ValueError):
        raise ServiceError("The removal limit needs whole numbers.")
    if not 0 <= percent <= 100:
        raise ServiceError("The removal limit share must be between 0 and 100 percent.")
    if minimum < 0:
        raise ServiceError("The minimum number of people cannot be negative.")
    settings = settings_for(organisation_id)
    before = {name: getattr(settings, name) for name in DEFAULTS}
    settings.include_guests = bool(include_guests)
    settings.removal_threshold_percent, settings.removal_threshold_minimum = percent, minimum
    db.session.add(settings)
    audit.record(actions.SYNC_SETTINGS_CHANGED, organisation_id, before=before,
                 after={name: getattr(settings, name) for name in DEFAULTS})
    db.session.commit()
    return settings
