"""The one injectable clock: tests move time through webapp.clock, never by patching callers."""
from datetime import datetime, timezone

from webapp import clock


def test_frozen_clock_answers_the_moment_until_the_block_ends_and_can_advance():
    moment = datetime(2026, 3, 29, 0, 59, 30, tzinfo=timezone.utc)
    with clock.frozen_at(moment) as frozen:
        assert clock.utcnow() == moment
        assert frozen.advance(seconds=45) == datetime(2026, 3, 29, 1, 0, 15, tzinfo=timezone.utc)
        assert clock.utcnow() == frozen.now
    assert abs((clock.utcnow() - datetime.now(timezone.utc)).total_seconds()) < 5


def test_a_naive_frozen_moment_is_utc():
    with clock.frozen_at(datetime(2026, 12, 6, 9, 0)):
        assert clock.utcnow() == datetime(2026, 12, 6, 9, 0, tzinfo=timezone.utc)
