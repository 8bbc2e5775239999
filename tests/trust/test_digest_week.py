"""Which week a digest covers: it ends at Monday 07:00 in the admin's school's time zone,
whatever the offset that day (pure function, no database)."""
from datetime import date, datetime, timezone

import pytest

from webapp.notifications.digest import week_ending

UTC = timezone.utc


@pytest.mark.parametrize("now, zone, monday, start, end", [
    # London in winter is UTC: Monday 07:00 GMT, a minute before and after.
    (datetime(2026, 12, 7, 7, 1, tzinfo=UTC), "Europe/London", date(2026, 12, 7),
     datetime(2026, 11, 30, 7, 0, tzinfo=UTC), datetime(2026, 12, 7, 7, 0, tzinfo=UTC)),
    (datetime(2026, 12, 7, 6, 59, tzinfo=UTC), "Europe/London", date(2026, 11, 30),
     datetime(2026, 11, 23, 7, 0, tzinfo=UTC), datetime(2026, 11, 30, 7, 0, tzinfo=UTC)),
    # The week the clocks go forward (Sunday 29 March 2026): it ends at 07:00 BST = 06:00 UTC,
    # and is an hour shorter than a week.
    (datetime(2026, 3, 30, 6, 0, tzinfo=UTC), "Europe/London", date(2026, 3, 30),
     datetime(2026, 3, 23, 7, 0, tzinfo=UTC), datetime(2026, 3, 30, 6, 0, tzinfo=UTC)),
    # Sydney's Monday 07:00 is Sunday evening in UTC.
    (datetime(2026, 12, 6, 20, 30, tzinfo=UTC), "Australia/Sydney", date(2026, 12, 7),
     datetime(2026, 11, 29, 20, 0, tzinfo=UTC), datetime(2026, 12, 6, 20, 0, tzinfo=UTC)),
    # Mid-week: the week that ended last Monday.
    (datetime(2026, 12, 10, 12, 0, tzinfo=UTC), "America/New_York", date(2026, 12, 7),
     datetime(2026, 11, 30, 12, 0, tzinfo=UTC), datetime(2026, 12, 7, 12, 0, tzinfo=UTC)),
])
def test_the_week_ends_at_monday_seven_in_the_schools_zone(now, zone, monday, start, end):
    assert week_ending(now, zone) == (monday, start, end)
