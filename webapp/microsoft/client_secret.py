"""Warns before the Microsoft app registration's client secret expires.

Entra client secrets expire (at most 24 months after creation). When it does, Microsoft refuses
every token request (AADSTS7000222) and every school's sync stops at once. The operator records
the expiry date shown in Entra in MICROSOFT_CLIENT_SECRET_EXPIRES; from
MICROSOFT_CLIENT_SECRET_WARN_DAYS before it, admins see a banner, /healthz lists a warning and
workers log one at start-up.
"""
import datetime
import logging
from dataclasses import dataclass

from webapp.clock import utcnow
from webapp.config import ConfigError
from webapp.dates import format_moment

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SecretExpiryNotice:
    expires: datetime.date
    days_left: int

    @property
    def expired(self):
        return self.days_left < 0

    @property
    def message(self):
        when = format_moment(self.expires, None)  # a date, the same for every school
        if self.expired:
            return (f"The Microsoft client secret expired on {when}: connecting and syncing stop "
                    "until a new secret is set in MICROSOFT_CLIENT_SECRET.")
        return (f"The Microsoft client secret expires on {when} (in {self.days_left} days): "
                "create a new one in Microsoft Entra and set MICROSOFT_CLIENT_SECRET and "
                "MICROSOFT_CLIENT_SECRET_EXPIRES before then.")


def secret_expiry_date(config):
    raw = (config.get("MICROSOFT_CLIENT_SECRET_EXPIRES") or "").strip()
    if not raw:
        return None
    try:
        return datetime.date.fromisoformat(raw[:10])
    except ValueError:
        raise ConfigError("MICROSOFT_CLIENT_SECRET_EXPIRES must be a date like 2027-03-31 "
                          f"(the secret's expiry shown in Microsoft Entra), not {raw!r}.") from None


def secret_expiry_notice(config, today=None):
    """A notice when the secret expires within the warning window (or has expired), else None."""
    expires = secret_expiry_date(config)
    if expires is None:
        return None
    today = today or utcnow().date()
    days_left = (expires - today).days
    if days_left > int(config.get("MICROSOFT_CLIENT_SECRET_WARN_DAYS", 30)):
        return None
    return SecretExpiryNotice(expires, days_left)


def init_client_secret_notice(app):
    secret_expiry_date(app.config)  # a malformed date stops start-up, naming the variable

    @app.context_processor
    def inject_client_secret_notice():
        return {"client_secret_notice": secret_expiry_notice(app.config)}


def log_client_secret_notice(config):
    notice = secret_expiry_notice(config)
    if notice:
        log.warning(notice.message, extra={"secret_expires": notice.expires.isoformat(),
                                           "days_left": notice.days_left})
    return notice
