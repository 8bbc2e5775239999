"""Settings › Schools: who sees it, the Needs attention default, counts that filter, search,
sort and pages kept in the address, and the Export CSV."""
import csv
import html
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from harness.factory import sign_in
from tests.statements import statements_sent
from tests.trust.helpers import NOW
from webapp.audit import actions
from webapp.audit.models import AuditEntry
from webapp.clock import frozen_at
from webapp.extensions import db
from webapp.orgs.models import Membership, Organisation

pytestmark = pytest.mark.backends("sqlite")  # Python filters and sorts; the query: test_overview
HTMX = {"HX-Request": "true"}


def get(world, query="", **kwargs):
    with frozen_at(NOW):
        return world.client.get(world.url + query, **kwargs)


def row_names(html):
    return re.findall(r'<label for="select-\d+" class="visually-hidden">Select ([^<]+)</label>', html)


def test_needs_attention_is_the_default_and_the_counts_are_links_that_filter(world):
    page = get(world)
    assert page.status_code == 200
    assert "Hazel College" not in row_names(page.text) and len(row_names(page.text)) == 7
    assert "Needs attention (7)" in page.text and "All schools (8)" in page.text
    for words, status in (("1 failing", "failing"), ("1 needs review", "needs_review"),
                          ("1 OK", "ok"), ("1 no successful sync for 48 hours", "stale")):
        assert f'href="{world.url}?status={status}" ' in page.text and f">{words}</a>" in page.text
    assert row_names(get(world, "?status=failing").text) == ["Elm High"]
    assert row_names(get(world, "?status=ok").text) == ["Hazel College"]
    assert len(row_names(get(world, "?status=all").text)) == 8
    assert "Zeal Academy" not in get(world, "?status=all").text


def test_everything_fine_shows_all_schools_by_default(world, factory):
    for school in world.schools.values():
        if school.name != "Hazel College":
            db.session.execute(Membership.__table__.delete().where(
                Membership.organisation_id == school.id, Membership.user_id == world.admin.id))
    helper = factory.organisation("Ivy School", "Oak Trust")
    factory.user(world.admin.email, [helper], role="admin")
    db.session.commit()
    from tests.trust.helpers import choose, run
    from webapp.user_sync import models as m
    choose(helper)
    run(helper, m.COMPLETE, NOW - timedelta(hours=1))
    db.session.commit()
    page = get(world)
    assert row_names(page.text) == ["Hazel College", "Ivy School"]
    assert "Needs attention (0)" in page.text


def test_search_sort_and_status_live_in_the_address_and_htmx_pushes_them(world):
    page = get(world, "?status=all&q=pr")
    assert row_names(page.text) == ["Birch Primary", "Damson Primary"]
    assert 'value="pr"' in page.text
    by_status = row_names(get(world, "?status=all&sort=status").text)
    assert by_status[:3] == ["Ashby Free School", "Birch Primary", "Cedar Academy"]
    assert by_status[-1] == "Hazel College"
    newest_first = row_names(get(world, "?status=all&sort=last_sync&dir=desc").text)
    assert newest_first[:2] == ["Hazel College", "Damson Primary"]
    assert newest_first[-4:] == ["Ashby Free School", "Birch Primary", "Cedar Academy",
                                 "Gorse Junior"]  # never synced: last either way
    # Groups are read for every school only to sort by them (else only for the rows shown).
    by_groups = row_names(get(world, "?status=all&sort=groups&dir=desc").text)
    assert by_groups[-2:] == ["Ashby Free School", "Cedar Academy"]  # none chosen: last
    assert by_groups[:2] == ["Birch Primary", "Damson Primary"]  # the same groups: by name
    partial = get(world, "?status=all&sort=people&dir=desc&page=1", headers=HTMX)
    assert "<html" not in partial.text and row_names(partial.text)[0] == "Hazel College"
    assert partial.headers["HX-Push-Url"] == f"{world.url}?status=all&sort=people&dir=desc"
    assert 'aria-sort="descending"' in partial.text



def test_sorting_by_next_automatic_sync_works_it_out_for_every_school_not_only_those_shown(world):
    from webapp.schedule.models import SyncSchedule
    db.session.execute(SyncSchedule.__table__.update()
                       .where(SyncSchedule.organisation_id == world.schools["stale"].id)
                       .values(next_due_at=NOW + timedelta(hours=20)))
    db.session.commit()
    without = ["Ashby Free School", "Birch Primary", "Cedar Academy", "Damson Primary",
               "Elm High", "Gorse Junior"]  # no next sync: last either way, by name
    soonest_first = row_names(get(world, "?status=all&sort=next_sync").text)
    assert soonest_first == ["Hazel College", "Fir Infants"] + without
    latest_first = row_names(get(world, "?status=all&sort=next_sync&dir=desc").text)
    assert latest_first == ["Fir Infants", "Hazel College"] + without

def test_a_search_that_is_too_long_says_so_and_shows_no_rows(world):
    page = get(world, "?q=" + "x" * 201)
    assert "That search is too long" in page.text and row_names(page.text) == []


def add_many_schools(world, count, trust_name="Oak Trust"):
    trust_id = world.schools["ok"].trust_id if trust_name == "Oak Trust" else None
    db.session.execute(insert(Organisation), [
        {"name": f"Many School {n:03d}", "trust_id": trust_id, "time_zone": "Europe/London"}
        for n in range(count)])
    ids = db.session.scalars(select(Organisation.id).where(
        Organisation.name.like("Many School %")).order_by(Organisation.id)).all()
    db.session.execute(insert(Membership), [
        {"user_id": world.admin.id, "organisation_id": org_id, "role": "admin", "source": "manual",
         "status": "active"} for org_id in ids])
    db.session.commit()
    return ids


def test_pages_of_fifty_with_links_that_keep_the_view(world):
    add_many_schools(world, 60)
    first = get(world, "?status=all&sort=name")
    assert len(row_names(first.text)) == 50 and "Page 1 of 2" in first.text
    assert f'href="{world.url}?page=2&amp;status=all"' in first.text
    second = get(world, "?status=all&page=2")
    assert len(row_names(second.text)) == 18 and "Page 2 of 2" in second.text
    assert "Every school in this list: all 68" in second.text
    assert "Page 2 of 2" in get(world, "?status=all&page=9").text  # an old link: the last page
    # ... and its address becomes the page shown, not the page asked for
    pushed = get(world, "?status=all&page=9", headers=HTMX).headers["HX-Push-Url"]
    assert pushed == f"{world.url}?status=all&page=2"
    assert get(world, "?status=all&page=9", headers=HTMX).text.count(
        '<input type="hidden" name="page" value="2">') == 1
    assert "Page 1 of 2" in get(world, "?status=all&page=\u00b2").text  # unreadable: the first


def test_only_an_admin_of_two_or_more_schools_has_the_page(app, factory, world):
    settings = world.client.get(f"/o/{world.schools['ok'].id}/settings").text
    assert f'href="{world.url}"' in settings and ">All schools</a>" in settings
    single = factory.school_with_admin("Lone School", email="lone@school.example")
    factory.user(world.admin.email, [single.org], role="member")
    client = app.test_client()
    sign_in(client, single.user.email)
    assert client.get(f"/o/{single.org.id}/settings/schools/").status_code == 404
    assert "Schools</a>" not in client.get(f"/o/{single.org.id}/settings").text
    # The trust admin, on a school where they are only a member, is refused there too.
    assert world.client.get(f"/o/{single.org.id}/settings/schools/").status_code == 404


def csv_rows(response):
    assert response.data.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))


def test_export_csv_is_formula_safe_with_offsets_and_recorded_for_each_school(world):
    world.schools["ok"].name = "=HYPERLINK(\"http://evil.example\")"
    world.schools["stale"].time_zone = "America/New_York"
    db.session.commit()
    response = get(world, "schools.csv?status=all")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert re.match(r'attachment; filename="schools-\d{4}-\d{2}-\d{2}\.csv"',
                    response.headers["Content-Disposition"])
    rows = {row["school"]: row for row in csv_rows(response)}
    assert len(rows) == 8
    evil = rows["'=HYPERLINK(\"http://evil.example\")"]
    assert evil["last_successful_sync"] == "2026-12-07T04:00:00+00:00"
    assert (evil["last_sync_added"], evil["last_sync_suspended"], evil["active_people"]) == (
        "2", "1", "3")
    assert evil["status"] == "ok" and evil["connection"] == "trust"
    assert rows["Fir Infants"]["last_successful_sync"] == "2026-12-04T04:00:00-05:00"
    assert rows["Elm High"]["status_detail"] == "Failing since 2026-12-05T09:00:00+00:00"
    assert rows["Ashby Free School"]["no_next_sync_because"] == "automatic sync is off"
    exported = db.session.scalars(select(AuditEntry.organisation_id).where(
        AuditEntry.action == actions.CSV_EXPORTED)).all()
    assert sorted(exported) == sorted(school.id for school in world.schools.values())
    assert [row["school"] for row in csv_rows(get(world, "schools.csv?status=failing"))] == [
        "Elm High"]
    # Sorted by a column the page reads for its shown rows only, the CSV sorts every row by it.
    def exported_by(sort):
        exported = csv_rows(get(world, f"schools.csv?status=all&sort={sort}"))
        return [row["school"] for row in exported]
    assert exported_by("people")[-1] == "'=HYPERLINK(\"http://evil.example\")"  # has people
    assert exported_by("groups")[-2:] == ["Ashby Free School", "Cedar Academy"]  # none chosen
    for sort in ("last_sync", "last_sync&dir=desc"):  # the page's order (all 8 schools shown)
        page = get(world, f"?status=all&sort={sort}").text
        shown = [html.unescape(name) for name in row_names(page)]
        assert [name.removeprefix("'") for name in exported_by(sort)] == shown


def count_page_statements(world, query):
    with statements_sent() as sent:
        assert get(world, query).status_code == 200
    return len(sent)


def test_the_whole_page_runs_as_many_statements_for_eight_schools_as_for_seventy(world):
    get(world)  # the people counts cached, as after any first view
    few = {query: count_page_statements(world, query) for query in ("", "?status=all&sort=status")}
    add_many_schools(world, 62)
    get(world)
    # No more (one fewer when no row shown has a run to read: load_runs then asks nothing).
    seventy = {query: count_page_statements(world, query) for query in few}
    assert all(few[query] - 1 <= seventy[query] <= few[query] for query in few), (few, seventy)
