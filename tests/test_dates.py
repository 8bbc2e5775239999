"""Dates and times: one format on every page, in the organisation's time zone with the zone
named, and ISO 8601 with the offset in CSV files. They were once shown in three formats, in UTC,
an hour off for UK schools all summer."""
import csv
import io
import re
from datetime import date, datetime, timezone

import pytest

from webapp import create_app
from webapp.config import ConfigError
from webapp.dates import format_moment, iso_timestamp, zone_for
from webapp.extensions import db
from webapp.microsoft.models import ConnectAttempt
from webapp.user_sync import models as m

UTC = timezone.utc
WINTER = datetime(2026, 12, 2, 14, 5, tzinfo=UTC)
SUMMER = datetime(2026, 7, 2, 14, 5, tzinfo=UTC)
ONE_FORMAT = re.compile(r"\b\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2} (GMT|BST)\b")


@pytest.mark.parametrize("moment, shown", [
    (WINTER, "2 Dec 2026, 14:05 GMT"),
    (SUMMER, "2 Jul 2026, 15:05 BST"),
    (datetime(2026, 3, 29, 0, 59, tzinfo=UTC), "29 Mar 2026, 00:59 GMT"),  # the last GMT minute
    (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), "29 Mar 2026, 02:00 BST"),  # clocks go forward
    (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "25 Oct 2026, 01:30 BST"),
    (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "25 Oct 2026, 01:30 GMT"),  # clocks go back
    (datetime(2026, 7, 2, 14, 5), "2 Jul 2026, 15:05 BST"),  # naive, as SQLite hands it back: UTC
    (date(2027, 3, 31), "31 Mar 2027"),
    (None, ""),
])
@pytest.mark.backends("sqlite")
def test_moments_are_shown_in_london_time_with_the_zone(app, moment, shown):
    assert format_moment(moment, None) == shown


@pytest.mark.parametrize("moment, stamp", [
    (WINTER, "2026-12-02T14:05:00+00:00"), (SUMMER, "2026-07-02T15:05:00+01:00"), (None, "")])
@pytest.mark.backends("sqlite")
def test_csv_timestamps_are_iso_8601_with_their_offset(app, moment, stamp):
    assert iso_timestamp(moment, None) == stamp


@pytest.mark.parametrize("zone, summer, winter", [
    ("America/New_York", "2 Jul 2026, 10:05 EDT", "2 Dec 2026, 09:05 EST"),
    ("Asia/Dubai", "2 Jul 2026, 18:05 UTC+04", "2 Dec 2026, 18:05 UTC+04"),
    ("UTC", "2 Jul 2026, 14:05 UTC", "2 Dec 2026, 14:05 UTC")])
@pytest.mark.backends("sqlite")
def test_default_time_zone_is_the_zone_new_organisations_start_in(factory, app, zone, summer, winter):
    app.config["DEFAULT_TIME_ZONE"] = zone
    org = factory.organisation()
    assert zone_for(org).key == zone
    assert (format_moment(SUMMER, org), format_moment(WINTER, org)) == (summer, winter)


def test_an_unknown_time_zone_stops_start_up_naming_the_setting(backend, redis_url):
    from harness.app_config import make_test_config
    config = make_test_config(backend[1], redis_url, DEFAULT_TIME_ZONE="Europe/Londres")
    with pytest.raises(ConfigError, match="DEFAULT_TIME_ZONE .*Europe/Londres"):
        create_app(config)


@pytest.fixture
def synced_in_summer_and_winter(admin, admin_client):
    """A sync that ran in winter, one that ran in summer, and a person last seen in summer."""
    winter = m.SyncRun(organisation_id=admin.org.id, status=m.COMPLETE, group_name="Staff",
                       created_at=WINTER, started_at=WINTER, finished_at=WINTER)
    summer = m.SyncRun(organisation_id=admin.org.id, status=m.COMPLETE, group_name="Staff",
                       created_at=SUMMER, started_at=SUMMER, finished_at=SUMMER)
    leaver = m.SyncedPerson(organisation_id=admin.org.id, microsoft_id="leaver",
                            email="l@x.example", email_normalised="l@x.example", display_name="Lee Leaver",
                            sort_name="lee leaver", status="suspended", in_group=False,
                            last_seen_at=SUMMER)
    attempt = ConnectAttempt(organisation_id=admin.org.id, user_id=admin.user.id,
                             outcome="connected", started_at=WINTER)
    db.session.add_all([winter, summer, leaver, attempt])
    db.session.commit()
    return admin_client, f"/o/{admin.org.id}/settings/user-sync", summer


def test_pages_show_every_moment_in_the_one_format_in_local_time(synced_in_summer_and_winter):
    client, base, summer = synced_in_summer_and_winter
    history = client.get(f"{base}/history").text
    assert "2 Dec 2026, 14:05 GMT" in history and "2 Jul 2026, 15:05 BST" in history
    assert "UTC" not in history
    detail = client.get(f"{base}/runs/{summer.id}").text
    assert "<h1>Sync, 2 Jul 2026, 15:05 BST</h1>" in detail
    people = client.get(f"{base}/").text
    assert "2 Jul 2026, 15:05 BST" in people  # the leaver's last sync, and Last run
    troubleshooting = client.get(f"{base}/troubleshooting/").text
    assert "2 Dec 2026, 14:05 GMT" in troubleshooting  # the connect attempt
    assert "Finished 2 Jul 2026, 15:05 BST" in troubleshooting  # the last sync check
    for page in (history, detail, people, troubleshooting):
        shown = re.sub(r"</?span>", "", page)  # a table cell may wrap its day and time apart
        for moment in re.findall(r"\d{1,2} [A-Z][a-z]+ \d{4}[^<]{0,14}", shown):
            assert ONE_FORMAT.match(moment), moment


def test_the_csv_gives_last_seen_in_iso_8601_with_the_offset(synced_in_summer_and_winter):
    client, base, _ = synced_in_summer_and_winter
    response = client.get(f"{base}/people.csv")
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert [row["last_seen"] for row in rows] == ["2026-07-02T15:05:00+01:00"]
