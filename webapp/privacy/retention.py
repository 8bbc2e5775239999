"""Erase leavers after N days (7 to 3650) or Never: reading, validating and saving the choice."""
from sqlalchemy import select

from webapp import audit, versions
from webapp.audit import actions
from webapp.extensions import db
from webapp.privacy.models import PrivacySettings
from webapp.request_input import whole_number

NEW_SCHOOL_DAYS = 90
MIN_DAYS, MAX_DAYS = 7, 3650
NEVER, DAYS = "never", "days"  # the form's two choices (mode)
FIELD = "erase_leavers_after_days"


class RetentionInvalid(Exception):
    """Bad input for one field; .field names it and str() says what to enter instead."""

    def __init__(self, field, message):
        super().__init__(message)
        self.field = field


def retention_for(organisation_id):
    """The saved choice, or an unsaved default of 90 days for a school created since."""
    found = db.session.scalar(select(PrivacySettings).where(
        PrivacySettings.organisation_id == organisation_id))
    return found or PrivacySettings(organisation_id=organisation_id,
                                    erase_leavers_after_days=NEW_SCHOOL_DAYS, needs_choice=False)


def parse_days(mode, days):
    """mode "never" or "days"; returns None (Never) or a whole number of days in range."""
    if mode == NEVER:
        return None
    if mode != DAYS:  # a forged post: neither choice the form offers
        raise RetentionInvalid(FIELD, "Choose This many days or Never.")
    text = (days or "").strip()
    if not (text.isascii() and text.isdigit()):
        raise RetentionInvalid(FIELD, f"Enter a whole number of days from {MIN_DAYS} to "
                                      f"{MAX_DAYS}, or choose Never.")
    value = whole_number(text, MIN_DAYS, MAX_DAYS)
    if value is None:
        entered = f" (you entered {text})" if len(text) <= 12 else ""
        raise RetentionInvalid(FIELD, f"Enter a number of days from {MIN_DAYS} to {MAX_DAYS}"
                                      f"{entered}, or choose Never.")
    return value


def retention_version(organisation_id):
    return versions.of_organisation(organisation_id, "retention")


def save_retention(organisation_id, mode, days, user=None, expected_version=None):
    """Validates, then saves and records the change in one transaction; nothing on bad input.
    expected_version: the form's (versions.ChangedSince if saved since); None without a form."""
    value = parse_days(mode, days)
    versions.claim(retention_version(organisation_id), expected_version, user)
    settings = retention_for(organisation_id)
    before = {"erase_leavers_after_days": describe(settings)}
    settings.erase_leavers_after_days, settings.needs_choice = value, False
    db.session.add(settings)
    audit.record(actions.RETENTION_CHANGED, organisation_id, before=before,
                 after={"erase_leavers_after_days": describe(settings)})
    db.session.commit()
    return settings


def describe(settings):
    days = settings.erase_leavers_after_days
    return "never" if days is None else days
