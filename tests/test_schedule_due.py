"""When automatic syncs are due: daylight saving, catch-up, spreading and the retry back-off."""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from webapp.schedule import due

LONDON = ZoneInfo("Europe/London")
UTC = timezone.utc


def utc(*parts):
    return datetime(*parts, tzinfo=UTC)


def daily_slots(minute_of_day, start, days, org_id=1):
    """Every daily slot from `start` for `days` days, by asking for the next one repeatedly."""
    slots, moment = [], start
    while moment < start + timedelta(days=days):
        moment = due.next_slot(due.DAILY, minute_of_day, LONDON, org_id, moment)
        slots.append(moment)
    return slots[:-1]


def offset(org_id=1):
    return due.spread_offset(org_id, due.DAILY)


def test_a_daily_time_is_local_to_the_school_in_summer_and_winter():
    winter = due.next_slot(due.DAILY, 2 * 60, LONDON, 1, utc(2026, 1, 10, 12))
    summer = due.next_slot(due.DAILY, 2 * 60, LONDON, 1, utc(2026, 7, 10, 12))
    assert winter == utc(2026, 1, 11, 2) + offset()     # GMT: 02:00 is 02:00 UTC
    assert summer == utc(2026, 7, 11, 1) + offset()     # BST: 02:00 is 01:00 UTC


def test_the_missing_spring_hour_runs_once_shifted_forward_by_the_gap():
    # 29 March 2026: clocks go from 01:00 GMT to 02:00 BST; 01:30 does not exist that day.
    slots = daily_slots(90, utc(2026, 3, 27, 12), days=4)
    assert [slot.astimezone(LONDON).date().day for slot in slots] == [28, 29, 30, 31]
    assert slots[1] == utc(2026, 3, 29, 1, 30) + offset()  # 02:30 BST, once
    assert slots[2] == utc(2026, 3, 30, 0, 30) + offset()  # 01:30 BST from then on


def test_the_repeated_autumn_hour_runs_once_at_its_first_occurrence():
    # 25 October 2026: 01:00-02:00 happens twice (BST, then GMT).
    slots = daily_slots(90, utc(2026, 10, 23, 12), days=4)
    assert [slot.astimezone(LONDON).date().day for slot in slots] == [24, 25, 26, 27]
    assert slots[1] == utc(2026, 10, 25, 0, 30) + offset()  # 01:30 BST, the first 01:30
    assert slots[2] == utc(2026, 10, 26, 1, 30) + offset()  # 01:30 GMT


@pytest.mark.parametrize("frequency,hours", [("1h", 1), ("2h", 2), ("4h", 4), ("6h", 6),
                                             ("12h", 12)])
def test_interval_slots_are_evenly_spaced_across_a_clock_change(frequency, hours):
    moment, slots = utc(2026, 3, 28, 20), []
    for _ in range(30 // hours + 2):
        moment = due.next_slot(frequency, None, LONDON, 7, moment)
        slots.append(moment)
    assert {b - a for a, b in zip(slots, slots[1:])} == {timedelta(hours=hours)}


def test_catching_up_after_an_outage_gives_one_slot_after_now_not_every_missed_one():
    missed_from = utc(2026, 5, 1, 0)
    back_at = missed_from + timedelta(hours=6)
    following = due.next_slot("1h", None, LONDON, 3, back_at)
    assert back_at < following <= back_at + timedelta(hours=1)


def test_schools_that_chose_the_same_time_start_spread_over_thirty_minutes():
    offsets = [due.spread_offset(org_id, due.DAILY) for org_id in range(1, 1001)]
    assert max(offsets) < timedelta(minutes=30) and min(offsets) >= timedelta(0)
    per_minute = {}
    for value in offsets:
        per_minute[int(value.total_seconds() // 60)] = per_minute.get(int(value.total_seconds() // 60), 0) + 1
    assert len(per_minute) == 30 and max(per_minute.values()) < 60  # about 33 a minute
    assert due.spread_offset(42, due.DAILY) == due.spread_offset(42, due.DAILY)
    assert all(due.spread_offset(n, "1h") < timedelta(minutes=30) for n in range(200))


def test_retries_back_off_then_wait_for_the_regular_slot():
    finished, regular = utc(2026, 5, 1, 2), utc(2026, 5, 2, 2)
    assert [due.after_failure(regular, finished, n) for n in (1, 2, 3, 4)] == [
        finished + timedelta(minutes=15), finished + timedelta(hours=1),
        finished + timedelta(hours=4), regular]
    assert due.after_failure(finished + timedelta(minutes=5), finished, 1) == (
        finished + timedelta(minutes=5))  # never later than the next regular slot


@pytest.mark.parametrize("text,message", [("", "HH:MM"), ("2am", "HH:MM"), ("24:00", "not a time"),
                                          ("12:60", "not a time"), ("1:5", "HH:MM"),
                                          ("-1:00", "HH:MM")])
def test_a_malformed_or_impossible_time_is_refused_in_words(text, message):
    with pytest.raises(ValueError, match=message):
        due.parse_time_of_day(text)


def test_times_of_day_parse_and_format_back():
    assert due.parse_time_of_day("02:00") == 120 and due.parse_time_of_day("7:45") == 465
    assert due.format_minute_of_day(465) == "07:45"


def test_slot_note_says_why_a_due_minute_differs_and_is_silent_about_a_retry():
    lord_howe = ZoneInfo("Australia/Lord_Howe")  # its clocks move half an hour
    spring = due.next_slot(due.DAILY, 130, lord_howe, 1, utc(2026, 10, 3, 0))  # 4 Oct, 02:10
    note = due.slot_note(due.DAILY, 130, lord_howe, 1, spring)
    assert (note.clock_change, note.shift_minutes, note.chosen) == (due.SKIPPED, 30, "02:10")
    assert note.spread_minutes == int(due.spread_offset(1, due.DAILY).total_seconds()) // 60
    autumn = due.next_slot(due.DAILY, 90, LONDON, 1, utc(2026, 10, 24, 12))
    assert due.slot_note(due.DAILY, 90, LONDON, 1, autumn.astimezone(LONDON)).clock_change == \
        due.REPEATED  # an ambiguous local moment, as the card holds it
    ordinary = due.next_slot(due.DAILY, 90, LONDON, 1, utc(2026, 12, 3, 12))
    assert due.slot_note(due.DAILY, 90, LONDON, 1, ordinary).clock_change == ""
    retry = ordinary - timedelta(hours=3)  # a retry after a failure is not a regular slot
    assert due.slot_note(due.DAILY, 90, LONDON, 1, retry) is None
