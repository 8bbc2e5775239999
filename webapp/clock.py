"""The one clock: every "now" in the product is utcnow(), timezone-aware UTC."""
from datetime import datetime, timezone


def utcnow():
    return datetime.now(timezone.utc)


def as_utc(moment):
    """SQLite hands back naive datetimes even for timezone=True columns; every time we store
    is UTC, so a naive one is UTC."""
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=timezone.utc)
