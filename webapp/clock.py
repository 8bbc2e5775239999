"""The one clock: every "now" in the product is utcnow(), timezone-aware UTC.

Tests move time with `frozen_at(moment)` rather than patching the code that reads the clock;
processes outside the test (workers, the CLI) take an `--as-of` option instead. A tick run
`--as-of` a moment reads that moment throughout, and the syncs it queues run from it
(`running_from`), so their times and the checks that read them share the tick's clock.
"""
import contextlib
from datetime import datetime, timedelta, timezone

_frozen = None
_offset = timedelta(0)


def utcnow():
    return _frozen if _frozen is not None else datetime.now(timezone.utc) + _offset


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
def running_from(moment):
    """utcnow() starts at `moment` (aware; naive means UTC) and runs on at the real pace until
    exit: a sync queued by a tick run `--as-of` starts, fetches and finishes on the tick's clock."""
    global _offset
    previous, _offset = _offset, as_utc(moment) - datetime.now(timezone.utc)
    try:
        yield
    finally:
        _offset = previous


def as_of_clock(moment):
    """frozen_at(moment) for a process run `--as-of` that moment; the real clock for None."""
    return frozen_at(moment) if moment is not None else contextlib.nullcontext()


@contextlib.contextmanager
def frozen_at(moment):
    """Every utcnow() in this process answers `moment` (aware; naive means UTC) until exit."""
    global _frozen
    previous, _frozen = _frozen, as_utc(moment)
    try:
        yield FrozenClock()
    finally:
        _frozen = previous
