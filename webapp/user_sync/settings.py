"""Per-organisation sync settings: include guests, and the removal safety threshold."""
from sqlalchemy import select

from webapp import audit, versions
from webapp.audit import actions
from webapp.errors import ServiceError
from webapp.extensions import db
from webapp.request_input import whole_number
from webapp.user_sync.models import SyncSettings

DEFAULTS = {"include_guests": False, "removal_threshold_percent": 10,
            "removal_threshold_minimum": 5}
# 0 % would send every removal to review; a minimum above any school's size switches the
# safety limit off. (field, lowest, highest, what the number is)
LIMITS = (("removal_threshold_percent", 1, 100, "the share of synced people"),
          ("removal_threshold_minimum", 1, 10_000, "the number of people"))


class InvalidSettings(ServiceError):
    """errors: {field: message to show next to that field}; nothing was saved."""

    def __init__(self, errors):
        super().__init__("Check the sync settings: " + " ".join(errors.values()))
        self.errors = errors


def settings_for(organisation_id):
    """The saved settings, or unsaved defaults (nothing is written just by reading)."""
    found = db.session.scalar(select(SyncSettings).where(
        SyncSettings.organisation_id == organisation_id))
    return found or SyncSettings(organisation_id=organisation_id, **DEFAULTS)


def _typed(value):
    return "" if value is None else str(value).strip()


def whole_number_error(text, lowest, highest, what):
    """The message for text that is not a whole number from lowest to highest, else None.
    (ASCII digits only: int() would also take "٣", "1_000" and "+5".)"""
    text = _typed(text)
    allowed = f"a whole number from {lowest:,} to {highest:,}"
    if not text:
        return f"Enter {what}: {allowed}."
    if not (text.isascii() and text.isdigit()):
        return f"Enter {what} as {allowed}, without decimals, spaces or other signs."
    if whole_number(text, lowest, highest) is None:
        return f"Enter {what} as {allowed}."
    return None


def settings_version(organisation_id):
    return versions.of_organisation(organisation_id, "sync_settings")


def save_settings(organisation_id, include_guests, percent, minimum, user=None,
                  expected_version=None):
    """Saves all three or, if any number is out of bounds, nothing (raises InvalidSettings).
    expected_version: the form's (versions.ChangedSince if saved since); None without a form."""
    values = {"removal_threshold_percent": percent, "removal_threshold_minimum": minimum}
    errors = {field: message for field, lowest, highest, what in LIMITS
              if (message := whole_number_error(values[field], lowest, highest, what))}
    if errors:
        raise InvalidSettings(errors)
    versions.claim(settings_version(organisation_id), expected_version, user)
    settings = settings_for(organisation_id)
    before = {name: getattr(settings, name) for name in DEFAULTS}
    settings.include_guests = bool(include_guests)
    settings.removal_threshold_percent = int(_typed(percent))
    settings.removal_threshold_minimum = int(_typed(minimum))
    db.session.add(settings)
    audit.record(actions.SYNC_SETTINGS_CHANGED, organisation_id, before=before,
                 after={name: getattr(settings, name) for name in DEFAULTS})
    db.session.commit()
    return settings
