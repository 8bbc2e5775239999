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


def test_a_clock_running_from_a_moment_starts_there_and_moves_on():
    moment = datetime(2027, 1, 4, 1, 41, tzinfo=timezone.utc)
    with clock.running_from(moment):
        first = clock.utcnow()
        second = clock.utcnow()
        assert moment <= first <= second and (second - moment).total_seconds() < 5
    assert abs((clock.utcnow() - datetime.now(timezone.utc)).total_seconds()) < 5
