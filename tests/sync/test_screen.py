"""The Manage user sync screen: Sync now over HTMX, progress, review, people, CSV, history, why."""
import csv
import html as html_lib
import io
import re

import pytest

from harness.factory import csrf_token_from
from tests.microsoft_flow import demo
from tests.sync_helpers import (NORTHFIELD, NORTHFIELD_ADDED, latest_run, people, person,
                                sync_in_process)
from webapp.audit import actions
from webapp.audit.models import AuditEntry
from webapp.clock import as_utc
from webapp.extensions import db
from webapp.redis_conn import get_queue
from webapp.user_sync import models as m
from webapp.user_sync.engine import lifecycle
from webapp.user_sync.engine.run import run_sync
from webapp.user_sync.settings import save_settings

HTMX = {"HX-Request": "true"}


def url(school, path=""):
    return f"/o/{school.org.id}/settings/user-sync/{path}"


def post(school, path, data=None, htmx=False):
    page = school.client.get(url(school))
    form = {"csrf_token": csrf_token_from(page.text), **(data or {})}
    return school.client.post(url(school, path), data=form, headers=HTMX if htmx else {})


def test_the_screen_summarises_the_connection_and_offers_sync_now(school):
    page = school.client.get(url(school))
    assert page.status_code == 200
    for text in ("Connected", demo.ADMIN_UPN, "Northfield Staff", "Syncing: Northfield Staff",
                 "Sync now", "Preview changes", "Export CSV", "Import settings",
                 "Troubleshooting", "Never synced"):
        assert text in page.text, text


def test_a_school_without_a_connection_is_told_what_to_do(app, admin_client, admin):
    page = admin_client.get(f"/o/{admin.org.id}/settings/user-sync/")
    assert "Not connected" in page.text and "Sync now" not in page.text
    assert "Connect to Microsoft</a> first" in page.text


def test_duplicate_clicks_get_the_running_sync_not_a_second_one(school, factory, client):
    first = post(school, "sync", htmx=True)
    second = post(school, "sync", htmx=True)
    runs = db.session.query(m.SyncRun).all()
    assert len(runs) == 1 and get_queue("sync").count == 1
    assert f"runs/{runs[0].id}/status" in first.text and f"runs/{runs[0].id}/status" in second.text
    assert "already running" in second.text
    assert post(school, "preview", htmx=True).text.count(f"runs/{runs[0].id}/status") == 1
    assert db.session.query(m.SyncRun).count() == 1


def test_progress_polls_itself_then_stops_on_sync_complete(school):
    post(school, "sync", htmx=True)
    run = db.session.query(m.SyncRun).one()
    status = school.client.get(url(school, f"runs/{run.id}/status"), headers=HTMX)
    assert 'hx-trigger="load delay:1s"' in status.text and "Waiting for a worker" in status.text
    run_sync(run.id)
    status = school.client.get(url(school, f"runs/{run.id}/status"), headers=HTMX)
    assert "Sync complete" in status.text and "hx-trigger" not in status.text
    assert f"{NORTHFIELD_ADDED} added" in status.text
    assert status.headers["HX-Trigger"] == "sync-finished"


def test_progress_sits_in_a_live_region_that_sync_now_hands_focus_to(school):
    page = school.client.get(url(school)).text
    region = page.split('id="sync-live"', 1)[1].split(">", 1)[0]
    assert 'role="status"' in region and 'aria-live="polite"' in region and 'tabindex="-1"' in region
    assert page.index('id="sync-live"') < page.index('id="sync-status"')
    sync_form = page.split(f'hx-post="{url(school, "sync")}"', 1)[1].split(">", 1)[0]
    assert 'data-focus-after="#sync-live"' in sync_form
    without_js = post(school, "sync")
    assert without_js.status_code == 303 and without_js.location.endswith(url(school) + "#sync-live")


def status_text(school, run):
    html = school.client.get(url(school, f"runs/{run.id}/status"), headers=HTMX).text
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_progress_says_each_thing_once_in_plain_words(school):
    post(school, "sync", htmx=True)
    run = db.session.query(m.SyncRun).one()
    queued = status_text(school, run)
    assert queued.count("Waiting for a worker") == 1 and "Starting" not in queued
    assert "starts as soon as a background worker is free" in queued and "Not started yet" in queued
    lifecycle.mark_running(run.id, 1)
    lifecycle.report_progress(run.id, "Fetching members from Microsoft", 0)
    fetching = status_text(school, run)
    assert "Syncing — Fetching members from Microsoft" in fetching and "Starting" not in fetching
    assert "Asking Microsoft for the group's members" in fetching
    lifecycle.report_progress(run.id, "Fetching members from Microsoft", 1000)
    assert "Fetched 1,000 people so far" in status_text(school, run)
    lifecycle.report_progress(run.id, "Fetching members from Microsoft", 1000, 3000)
    assert "Fetched 1,000 of 3,000 people" in status_text(school, run)


def test_the_connection_card_shows_the_finished_run_when_the_sync_ends(school):
    page = school.client.get(url(school))
    assert 'hx-get="' + url(school, "summary") + '" hx-trigger="sync-finished from:body"' in page.text
    post(school, "sync", htmx=True)
    run_sync(db.session.query(m.SyncRun).one().id)
    card = school.client.get(url(school, "summary"), headers=HTMX)
    assert "Never synced" not in card.text and "Sync complete" in card.text
    assert 'hx-trigger="sync-finished from:body"' in card.text  # listens again after the swap
    assert school.client.get(url(school, "summary")).headers["Location"].endswith(url(school))


def test_a_running_sync_shows_a_determinate_bar(school):
    from webapp.user_sync.engine import lifecycle
    run, _ = lifecycle.start_run(school.org, school.admin)
    lifecycle.mark_running(run.id, 1)
    lifecycle.report_progress(run.id, "Fetching members from Microsoft", 4000, 12400)
    status = school.client.get(url(school, f"runs/{run.id}/status"), headers=HTMX)
    assert "Fetched 4,000 of 12,400" in status.text
    assert '<progress id="sync-progress-' in status.text and 'max="12400" value="4000"' in status.text


def test_a_failed_sync_says_sync_failed_and_why(school):
    school.sim.control.delete_group(NORTHFIELD)
    run = sync_in_process(school)
    page = school.client.get(url(school))
    assert "Sync failed" in page.text and "no longer exists in Microsoft" in page.text
    assert "Nothing was changed" in page.text
    assert run.status == m.FAILED


def test_needs_review_lists_who_and_apply_removals_applies_them(school):
    sync_in_process(school)
    control = school.sim.control
    removed = [pid for pid in (demo.OBRIEN_ID, demo.MARKUP_ID, demo.RTL_ID, demo.NO_MAILBOX_ID)
               if control.remove_member(NORTHFIELD, pid)]
    removed += [p.microsoft_id for p in db.session.query(m.SyncedPerson).all()
                if p.microsoft_id not in removed and control.remove_member(NORTHFIELD, p.microsoft_id)][:2]
    run = sync_in_process(school)
    page = school.client.get(url(school))
    assert "Needs review" in page.text and "Siobhán O&#39;Brien" in page.text
    assert "Apply removals" in page.text and "Cancel this sync (nobody changes)" in page.text
    for htmx in (True, False):  # one click asks first, naming the count, with or without htmx
        asked = post(school, f"runs/{run.id}/apply", htmx=htmx)
        assert asked.status_code == 200 and ("<html" in asked.text) is not htmx
        assert f"Suspend {run.suspended} people?" in asked.text
        assert 'name="confirmed" value="yes"' in asked.text
        assert f">Suspend {run.suspended} people</button>" in asked.text
        assert person(school.org, demo.OBRIEN_ID).status == "active"
    response = post(school, f"runs/{run.id}/apply", {"confirmed": "yes"}, htmx=True)
    assert "Waiting for a worker" in response.text
    run_sync(run.id)
    page = school.client.get(url(school))
    assert "Sync complete" in page.text and person(school.org, demo.OBRIEN_ID).status == "suspended"


def review_of_three_leavers(school):
    """A first sync, then three people leave the group and the next sync waits for review."""
    sync_in_process(school)
    save_settings(school.org.id, False, 1, 1)  # more than one removal needs review
    for microsoft_id in (demo.OBRIEN_ID, demo.MARKUP_ID, demo.RTL_ID):
        school.sim.control.remove_member(NORTHFIELD, microsoft_id)
    return sync_in_process(school)


def test_sync_now_while_a_review_waits_replaces_it_with_a_fresh_sync(school):
    """The review's plan is out of date once Microsoft may have changed: Sync now starts a new
    sync (held to the same limit, so it stops at a review of its own) and the old review says
    what replaced it, with JavaScript and without."""
    review = review_of_three_leavers(school)
    assert "Pressing Sync now instead starts a fresh sync that replaces this one." in \
        school.client.get(url(school)).text
    answer = post(school, "sync", htmx=True)
    assert answer.text.lstrip().startswith('<div id="sync-status"')
    newer = latest_run(school)
    assert newer.id != review.id and (newer.status, newer.trigger) == (m.QUEUED, m.TRIGGER_MANUAL)
    assert "Waiting for a worker" in answer.text and f"runs/{newer.id}/status" in answer.text
    assert_replaced(school, review, newer)
    assert run_sync(newer.id).status == m.NEEDS_REVIEW  # the same three leavers: the same limit
    redirected = post(school, "sync")
    assert redirected.status_code == 303 and redirected.location.endswith("#sync-live")
    newest = latest_run(school)
    assert "Waiting for a worker" in school.client.get(redirected.location).text
    assert_replaced(school, newer, newest)
    assert people(school.org, status="suspended") == []
    history = school.client.get(url(school, "history")).text
    assert f"Replaced by a newer sync (run {newer.id}). Nothing was changed." in history
    assert f"Replaced by a newer sync (run {newest.id}). Nothing was changed." in history


def assert_replaced(school, review, by):
    """The review is cancelled naming its replacement, and the Activity log has who started it."""
    db.session.expire_all()
    replaced = db.session.get(m.SyncRun, review.id)
    assert replaced.status == m.CANCELLED
    assert replaced.reason == f"Replaced by a newer sync (run {by.id}). Nothing was changed."
    # Ended when it was replaced, as a review cancelled by hand or by an undo, not when it
    # stopped for review.
    assert as_utc(replaced.finished_at) >= as_utc(by.created_at)
    started = db.session.query(AuditEntry).filter_by(action=actions.SYNC_STARTED).all()
    assert len(started) == db.session.query(m.SyncRun).count()  # one for every sync, this too
    assert {(entry.organisation_id, entry.actor_user_id) for entry in started} == {
        (school.org.id, school.admin.id)}
    assert by.started_by_user_id == school.admin.id


def test_cancel_after_review_changes_nobody(school):
    sync_in_process(school)
    for p in db.session.query(m.SyncedPerson).all():
        school.sim.control.remove_member(NORTHFIELD, p.microsoft_id)
    run = sync_in_process(school)
    response = post(school, f"runs/{run.id}/cancel")
    assert response.status_code == 303
    page = school.client.get(url(school))
    assert "Cancelled. Nobody was added, changed or suspended." in page.text
    assert db.session.query(m.SyncedPerson).filter_by(status="suspended").count() == 0


def test_two_tabs_on_a_review_each_say_what_became_of_it(school, factory):
    """Cancel in one tab, Apply removals in the other: once a whole page landed in the Sync
    card. Now the card says who cancelled it and when; and the other way round, Cancel says
    the removals are being applied."""
    run = review_of_three_leavers(school)
    assert run.status == m.NEEDS_REVIEW
    tab_b = school.client.get(url(school)).text
    assert post(school, f"runs/{run.id}/cancel").status_code == 303  # tab A
    answer = school.client.post(url(school, f"runs/{run.id}/apply"), headers=HTMX,
                                data={"csrf_token": csrf_token_from(tab_b)})
    assert answer.status_code == 200 and "<body" not in answer.text
    assert answer.text.lstrip().startswith('<div id="sync-status"')
    assert "This review was already cancelled by you (in another tab or window) at " in answer.text
    assert "nobody was added, changed or suspended" in answer.text and "Cancelled" in answer.text
    assert people(school.org, status="suspended") == []

    run = sync_in_process(school)
    deputy = factory.user("deputy@northfield.example", [school.org], role="admin",
                          name="Deputy Head")
    lifecycle.approve_review(school.org, run.id, deputy)  # another admin, another computer
    cancelled = post(school, f"runs/{run.id}/cancel")
    page = school.client.get(cancelled.location).text
    assert ("Apply removals was already pressed by Deputy Head: the removals are being applied "
            "now.") in page


def shown_email(email):
    """An email as the people table shows it: it may wrap after its @."""
    return email.replace("@", "@<wbr>")


@pytest.mark.both_databases
def test_people_table_searches_filters_sorts_and_pages(school):
    sync_in_process(school)
    school.sim.control.remove_member(NORTHFIELD, demo.OBRIEN_ID)
    sync_in_process(school)
    found = school.client.get(url(school, "people?q=ngstr"), headers=HTMX)
    assert "Zoë Ångström" in found.text and "1 person" in found.text
    suspended = school.client.get(url(school, "people?status=suspended"), headers=HTMX)
    assert "Siobhán O&#39;Brien" in suspended.text and "1 person" in suspended.text
    by_email = school.client.get(url(school, "people?sort=email&dir=desc"), headers=HTMX)
    emails = [shown_email(p.email_normalised) for p in db.session.query(m.SyncedPerson).all()]
    assert by_email.text.index(max(emails)) < by_email.text.index(min(emails))
    assert "&lt;b&gt;Ms&lt;/b&gt; Script" in school.client.get(url(school)).text


def test_a_new_search_filter_sort_or_page_is_pushed_as_the_pages_address(school):
    sync_in_process(school)
    found = school.client.get(url(school, "people?q=ngstr&status=&sort=name&dir=asc"), headers=HTMX)
    assert found.headers["HX-Push-Url"] == url(school, "?q=ngstr")
    sorted_ = school.client.get(url(school, "people?status=active&sort=email&dir=desc&page=1"),
                                headers=HTMX)
    assert sorted_.headers["HX-Push-Url"] == url(school, "?status=active&sort=email&dir=desc")
    # The table's own refresh when a sync ends keeps the address as it is.
    refresh = school.client.get(url(school, "people?q=ngstr"),
                                headers={**HTMX, "HX-Trigger": "people-table"})
    assert "HX-Push-Url" not in refresh.headers
    # ...and it asks for what is shown, not for what the page first showed.
    assert f'hx-get="{url(school, "people")}?q=ngstr"' in found.text


def test_reloading_the_pushed_address_shows_the_same_table(school):
    sync_in_process(school)
    page = school.client.get(url(school, "?q=a&status=active&sort=email&dir=desc")).text
    assert 'value="a"' in page and '<option value="active" selected>' in page
    assert 'name="sort" value="email" form="people-filters"' in page
    assert 'name="dir" value="desc" form="people-filters"' in page
    assert 'aria-sort="descending"' in page


def test_column_headers_are_links_that_sort_and_toggle(school):
    sync_in_process(school)
    page = school.client.get(url(school, "?q=o")).text
    email_header = page.split('id="sort-email"', 1)[1].split("</a>", 1)[0]
    href = html_lib.unescape(re.search(r'href="([^"]+)"', email_header).group(1))
    path, _, query = href.partition("?")
    assert path == url(school) and sorted(query.split("&")) == ["q=o", "sort=email"]
    assert 'hx-target="#people-table"' in email_header and "sort A to Z" in email_header
    name_header = page.split('id="sort-name"', 1)[1].split("</a>", 1)[0]
    assert "dir=desc" in name_header and "sort Z to A" in name_header  # sorted by name: toggles
    by_email = school.client.get(url(school, "?sort=email")).text
    emails = [shown_email(email) for email in sorted(
        p.email_normalised for p in db.session.query(m.SyncedPerson).all()
        if p.status != "excluded")]
    assert by_email.index(emails[0]) < by_email.index(emails[-1])
    assert 'aria-sort="ascending"' in by_email.split('id="sort-email"')[0].rsplit("<th", 1)[1]


def test_back_after_a_cache_miss_gets_the_whole_page_not_a_fragment(admin_client, admin):
    restored = admin_client.get(f"/o/{admin.org.id}/settings/users/?q=x", headers={
        "HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in restored.text and "<h1>Manage users</h1>" in restored.text


@pytest.mark.both_databases
def test_people_table_pages_fifty_at_a_time(school):
    from webapp.user_sync.engine.store import PEOPLE, bulk_insert
    bulk_insert(PEOPLE, [{"organisation_id": school.org.id, "microsoft_id": f"id-{i:03d}",
                          "email": f"p{i:03d}@x.example", "email_normalised": f"p{i:03d}@x.example",
                          "display_name": f"Person {i:03d}", "sort_name": f"person {i:03d}",
                          "status": "active", "excluded": False, "in_group": True}
                         for i in range(120)])
    db.session.commit()
    page = school.client.get(url(school, "people?page=3"), headers=HTMX)
    assert "Page 3 of 3" in page.text and "Person 100" in page.text and "Person 099" not in page.text


@pytest.mark.both_databases
def test_export_csv_has_the_people_and_their_statuses(school):
    from webapp.user_sync.people import set_excluded
    sync_in_process(school)
    set_excluded(school.org, person(school.org, demo.RTL_ID).id, True)
    school.sim.control.remove_member(NORTHFIELD, demo.OBRIEN_ID)
    sync_in_process(school)
    response = school.client.get(url(school, "people.csv"))
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert {"email", "display_name", "status", "microsoft_id"} <= set(rows[0])
    assert len(rows) == NORTHFIELD_ADDED
    by_id = {row["microsoft_id"]: row for row in rows}
    assert by_id[demo.OBRIEN_ID]["status"] == "suspended"
    assert by_id[demo.RTL_ID]["status"] == "excluded"
    assert by_id[demo.MARKUP_ID]["display_name"] == "<b>Ms</b> Script"
    assert {row["status"] for row in rows} == {"active", "suspended", "excluded"}


def test_history_and_run_detail_list_every_change_and_skip(school):
    sync_in_process(school)
    school.sim.control.update_user(demo.OBRIEN_ID, displayName="Siobhán Murphy")
    run = sync_in_process(school)
    history = school.client.get(url(school, "history"))
    assert history.text.count("Sync complete") == 2 and school.admin.email in history.text
    detail = school.client.get(url(school, f"runs/{run.id}"))
    assert "Siobhán Murphy" in detail.text and "Changed: name" in detail.text
    assert "Guest account" in detail.text and "Duplicate email" in detail.text
    assert "Account disabled in Microsoft" in detail.text
    assert "fetching from Microsoft" in detail.text and "applying changes" in detail.text


def test_preview_page_shows_what_would_change_and_can_exclude(school):
    run = sync_in_process(school, kind=m.KIND_PREVIEW)
    detail = school.client.get(url(school, f"runs/{run.id}"))
    assert "Would add" in detail.text and "Preview ready" in detail.text
    response = post(school, "exclusions", {"microsoft_id": demo.RTL_ID, "email": "l@x.example",
                                           "display_name": "Layla"})
    assert response.status_code == 303
    assert sync_in_process(school).added == NORTHFIELD_ADDED - 1


def test_exclude_and_include_buttons(school):
    sync_in_process(school)
    target = person(school.org, demo.OBRIEN_ID)
    assert post(school, f"people/{target.id}/exclude").status_code == 303
    db.session.expire_all()
    assert person(school.org, demo.OBRIEN_ID).status == "excluded"
    assert post(school, f"people/{target.id}/include").status_code == 303
    db.session.expire_all()
    assert person(school.org, demo.OBRIEN_ID).status == "active"


def test_settings_are_saved_and_validated(school):
    post(school, "settings", {"include_guests": "1", "removal_threshold_percent": "20",
                              "removal_threshold_minimum": "3"})
    settings = db.session.query(m.SyncSettings).one()
    assert (settings.include_guests, settings.removal_threshold_percent,
            settings.removal_threshold_minimum) == (True, 20, 3)
    response = post(school, "settings", {"removal_threshold_percent": "250",
                                         "removal_threshold_minimum": "3"})
    assert response.status_code == 422
    assert "Enter the share of synced people as a whole number from 1 to 100." in response.text
    db.session.expire_all()
    assert db.session.query(m.SyncSettings).one().removal_threshold_percent == 20


@pytest.mark.parametrize("query, expected", [
    ("sam.visitor@partner.example", "Guest account"),
    ("Dana Departed", "Account disabled in Microsoft"),
    ("Pat Office", "Duplicate email"),
    ("nobody.here@oaklearning.example", "No such person in your Microsoft tenant"),
    (demo.PERSONAL_UPN, "Not in the group “Northfield Staff”"),
    ("Zoë Ångström", "Synced, status Active."),
])
def test_why_isnt_this_person_synced_answers(school, query, expected):
    sync_in_process(school)
    answer = school.client.get(url(school, "why"), query_string={"q": query}, headers=HTMX)
    assert expected in answer.text, answer.text


def test_why_answers_excluded_suspended_and_not_synced_yet(school):
    from webapp.user_sync.people import set_excluded
    why = lambda q: school.client.get(url(school, "why"), query_string={"q": q}).text  # noqa: E731
    assert "In the group, but not synced yet" in why("jose.nunez@oaklearning.example")
    sync_in_process(school)
    set_excluded(school.org, person(school.org, demo.RTL_ID).id, True)
    assert "Excluded from sync by an admin" in why("layla.haddad@oaklearning.example")
    school.sim.control.remove_member(NORTHFIELD, demo.OBRIEN_ID)
    sync_in_process(school)
    assert "Synced, status Suspended: Left the group." in why("Siobhán")


def test_a_failing_school_says_so_on_manage_user_sync_after_a_preview(school):
    """A sync failed, then a preview completed: Settings › Schools said "Failing since", but
    Manage user sync showed only "Last run … Preview ready"; both now read engine.fleet's rule."""
    from tests.sync_helpers import sync_in_process
    assert sync_in_process(school).status == m.COMPLETE
    school.sim.control.set_faults(error_status=403, error_count=50)
    assert sync_in_process(school).status == m.FAILED
    school.sim.control.clear_faults()
    manage = school.client.get(f"/o/{school.org.id}/settings/user-sync/").text
    assert "Failing since" in manage
    assert sync_in_process(school, m.KIND_PREVIEW).status == m.COMPLETE
    manage = school.client.get(f"/o/{school.org.id}/settings/user-sync/").text
    assert "Failing since" in manage and "its page in Sync history says why" in manage
    assert sync_in_process(school).status == m.COMPLETE
    assert "Failing since" not in school.client.get(
        f"/o/{school.org.id}/settings/user-sync/").text
