"""The people CSV opens cleanly in Excel (UTF-8 with a byte-order mark, so "Zoë Ångström" and
Arabic names survive) under a name with the school and the day; a run's own page neither links
to itself nor gives its counts twice."""
import csv
import io
import re
from datetime import datetime, timezone

import pytest

from tests.microsoft_flow import demo
from tests.selection_helpers import choose
from tests.sync_helpers import sync_in_process
from webapp.dates import local_time
from webapp.downloads import download_name, slug
from webapp.user_sync import models as m
from webapp.user_sync.filters import counts_text


def sync_url(school, path=""):
    return f"/o/{school.org.id}/settings/user-sync/{path}"


def london_today():
    return local_time(datetime.now(timezone.utc), None).date().isoformat()


@pytest.mark.backends("postgresql")
def test_the_csv_is_utf8_with_a_byte_order_mark_and_keeps_every_name(school):
    sync_in_process(school)
    response = school.client.get(sync_url(school, "people.csv"))
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.data.startswith(b"\xef\xbb\xbf")  # Excel reads it as UTF-8 only with this
    assert response.data.count(b"\xef\xbb\xbf") == 1
    names = {row["display_name"] for row in
             csv.DictReader(io.StringIO(response.data.decode("utf-8-sig")))}
    assert {"Zoë Ångström", "ليلى حداد", "Siobhán O'Brien"} <= names


@pytest.mark.backends("postgresql")
def test_the_csv_is_named_after_the_school_and_the_day(school):
    before = london_today()
    disposition = school.client.get(sync_url(school, "people.csv")).headers["Content-Disposition"]
    days = {before, london_today()}  # the test may straddle midnight
    assert disposition in {f'attachment; filename="synced-people-northfield-academy-{day}.csv"'
                           for day in days}


@pytest.mark.parametrize("name, expected", [
    ("Northfield Academy", "northfield-academy"),
    ("Ærø École St. Mary's C of E", "aero-ecole-st-mary-s-c-of-e"),
    ("Łódź Gymnasium / Straße 5", "lodz-gymnasium-strasse-5"),
    ('Evil"; filename="x.exe\r\nSet-Cookie: a=b', "evil-filename-x-exe-set-cookie-a-b"),
    ("مدرسة النور", "school-7"),
    ("   ", "school-7"),
    ("A" * 200, "a" * 60),
])
def test_school_names_become_safe_file_names(name, expected):
    assert slug(name, "school-7") == expected


@pytest.mark.backends("sqlite")
def test_the_file_date_is_the_schools_own_day(app, factory):
    org = factory.organisation("Night Owls")
    late_in_london = datetime(2026, 7, 1, 23, 30, tzinfo=timezone.utc)  # 00:30 BST on the 2nd
    assert download_name("synced-people", org, "csv", late_in_london) == \
        "synced-people-night-owls-2026-07-02.csv"
    winter = datetime(2026, 12, 1, 23, 30, tzinfo=timezone.utc)
    assert download_name("synced-people", org, "csv", winter) == \
        "synced-people-night-owls-2026-12-01.csv"


@pytest.mark.backends("postgresql")
def test_a_runs_own_page_does_not_link_to_itself_and_gives_its_counts_once(school):
    run = sync_in_process(school)
    detail_url = sync_url(school, f"runs/{run.id}")
    page = school.client.get(detail_url).text
    assert f'href="{detail_url}"' not in page
    assert "See every change" not in page
    assert page.count(counts_text(run)) == 1
    index = school.client.get(sync_url(school)).text
    assert f'href="{detail_url}">See every change</a>' in index


@pytest.mark.backends("postgresql")
def test_the_status_poll_leaves_out_the_link_only_on_the_runs_own_page(school):
    run = sync_in_process(school)
    detail_url = sync_url(school, f"runs/{run.id}")
    status_url = sync_url(school, f"runs/{run.id}/status")

    def poll_from(page_path):
        return school.client.get(status_url, headers={
            "HX-Request": "true", "HX-Current-URL": f"http://localhost{page_path}"}).text
    assert "See every change" not in poll_from(detail_url)
    assert "See every change" in poll_from(sync_url(school))


@pytest.mark.backends("postgresql")
def test_a_runs_page_names_every_group_synced_and_excluded_and_who_started_it(school):
    """Once its one "Group" row listed only the synced groups, and a preview was "Started by:
    Preview by IT Sync"."""
    choose(school, synced=[demo.NORTHFIELD_STAFF_GROUP_ID, demo.SOUTHFIELD_STAFF_GROUP_ID],
           excluded=[demo.NORTHFIELD_TA_GROUP_ID])
    for kind in (m.KIND_SYNC, m.KIND_PREVIEW):
        run = sync_in_process(school, kind)
        page = school.client.get(sync_url(school, f"runs/{run.id}")).text
        rows = dict(re.findall(r"<dt>([^<]+)</dt><dd>(.*?)</dd>", page, re.S))
        assert rows["Groups synced"] == "Northfield Staff, Southfield Staff"
        assert rows["Groups excluded"].startswith("Northfield Teaching Assistants")
        button = "Preview changes" if kind == m.KIND_PREVIEW else "Sync now"
        assert rows["Started by"] == f"{school.admin.name_or_email}, with {button}"
