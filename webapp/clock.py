"""The one clock: every "now" in the product is utcnow(), timezone-aware UTC.

Tests move time with `frozen_at(moment)` rather than patching the code that reads the clock;
processes outside the test (workers, the CLI) take an `--as-of` option instead.
"""
import contextlib
from datetime import datetime, timedelta, timezone

_frozen = None


def utcnow():
    return _frozen if _frozen is not None else datetime.now(timezone.utc)


def as_utc(moment):
    """SQLite hands back naive datetimes even for timezone=True columns; every time we store
    is UTC, so a naive one is UTC."""
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=timezone.utc)


class FrozenClock:
    """The handle `frozen_at` yields: `.now`, and `.advance(seconds=30)` to move it on."""

    @property
    def now(self):
        return _frozen

    def advance(self, **delta):
        global _frozen
        _frozen = _frozen + timedelta(**delta)
        return _frozen


@contextlib.contextmanager
def frozen_at(moment):
    """Every utcnow() in this process answers `moment` (aware; naive means UTC) until exit."""
    global _frozen
    previous, _frozen = _frozen, as_utc(moment)
    try:
        yield FrozenClock()
    finally:
        _frozen = previous
