"""Sync now and Apply schedule on the Schools page: each selected school answered in its row,
with and without JavaScript; the one-sync-per-school rule in one transaction (a waiting review
replaced, automatic sync paused by an undo turned back on, as on Manage user sync); a forged,
stale or empty selection refused with nothing done; more than 500, deleted or disconnected
schools answered per row while the rest are done."""
import json
import re

import pytest
from sqlalchemy import event, insert, select

from tests.security.world import database_snapshot, queue_snapshot
from tests.statements import statements_sent
from tests.trust.helpers import NOW, press_on_schools_page, run, schools_page_form
from webapp.audit import actions
from webapp.audit.models import AuditEntry
from webapp.clock import frozen_at
from webapp.extensions import db
from webapp.microsoft.selection import GroupChoice
from webapp.microsoft.services import disconnect
from webapp.orgs.models import Membership, Organisation
from webapp.schedule.models import SyncSchedule
from webapp.zones import organisation_zone
from webapp.user_sync import models as m
from webapp.user_sync.engine.lifecycle import finish_run

pytestmark = pytest.mark.backends("sqlite")  # the bulk insert itself: tests/trust/test_overview
HTMX = {"HX-Request": "true"}


def load(world, query="?status=all"):
    with frozen_at(NOW):
        return schools_page_form(world.client, world.url, query)


def post(world, action, schools, form=None, headers=None):
    form = form or load(world)
    with frozen_at(NOW):
        return press_on_schools_page(world.client, world.url, action, schools, form, headers)


def row_names_of(html):
    return re.findall(r'class="visually-hidden">Select ([^<]+)</label>', html)


def row(html, school):
    match = re.search(rf'<tr id="school-{school.id}"(.*?)</tr>', html, re.S)
    assert match, f"no row for {school.name}"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(0)).split())


def runs(school, status=None):
    db.session.expire_all()
    stmt = select(m.SyncRun).where(m.SyncRun.organisation_id == school.id)
    return db.session.scalars(stmt.where(m.SyncRun.status == status) if status else stmt).all()


def paused_by_an_undo(school):
    """As Undo this sync leaves it (tests/sync/test_undo.py goes through the undo itself)."""
    undone = runs(school, m.COMPLETE)[-1]
    db.session.execute(SyncSchedule.__table__.update().where(
        SyncSchedule.organisation_id == school.id).values(paused_at=NOW,
                                                         paused_by_run_id=undone.id))
    db.session.commit()
    return undone.id


def sync_now_statements(sent):
    """Sync now's own, not the page's: those about runs, schedules and the audit log."""
    return [statement for statement in sent
            if re.search(r"\b(sync_runs|sync_schedules|audit_entries)\b", statement)]


def resumed_entries():
    return {entry.organisation_id: (json.loads(entry.before), entry.actor_user_id)
            for entry in db.session.scalars(select(AuditEntry).where(
                AuditEntry.action == actions.AUTOMATIC_SYNC_RESUMED))}


def test_sync_now_queues_every_school_that_can_sync_in_one_transaction_and_says_why_not(
        app, world):
    schools = world.schools
    undone = paused_by_an_undo(schools["ok"])
    form = load(world)
    commits = []

    def count_commit(*_):
        commits.append(1)
    event.listen(db.engine, "commit", count_commit)
    try:
        answer = post(world, "sync", schools.values(), form)
    finally:
        event.remove(db.engine, "commit", count_commit)
    assert answer.status_code == 200
    queued = ("needs_review", "failing", "stale", "never_synced", "ok")
    for status in queued:
        run, = runs(schools[status], m.QUEUED)
        assert (run.trigger, run.started_by_user_id) == (m.TRIGGER_MANUAL, world.admin.id)
        assert "Sync queued" in row(answer.text, schools[status])
        assert "Waiting for a worker" in row(answer.text, schools[status])
    # The runs, their audit entries, the replaced review and the ended pause together.
    assert len(commits) == 1
    assert schedules()[schools["ok"].id].paused_at is None
    assert resumed_entries() == {schools["ok"].id: ({"paused_by_run": undone}, world.admin.id)}
    assert "not connected to Microsoft" in row(answer.text, schools["not_connected"])
    assert "Microsoft needs reconnecting" in row(answer.text, schools["reconnect"])
    assert "no group is chosen" in row(answer.text, schools["no_group"])
    assert "Sync now: done for 5 schools; not done for 3" in answer.text
    review, = runs(schools["needs_review"], m.CANCELLED)
    assert review.reason.startswith("Replaced by a newer sync")
    started = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == actions.SYNC_STARTED)).all()
    assert sorted(entry.organisation_id for entry in started) == sorted(
        schools[status].id for status in queued)
    assert {entry.actor_user_id for entry in started} == {world.admin.id}
    assert queue_snapshot(app)[app.config["QUEUE_SYNC"]] == 5
    again = post(world, "sync", [schools["ok"]], headers=HTMX)
    assert "<html" not in again.text
    assert "already running or waiting for a worker" in row(again.text, schools["ok"])
    assert len(runs(schools["ok"], m.QUEUED)) == 1


def test_sync_now_ends_the_undo_pause_of_each_school_it_starts_in_the_same_statements_for_many(
        world):
    """The rule of lifecycle.queue_manual_syncs, as on Manage user sync: a school's pause ends
    with an audit entry of its own, but the statements do not grow with the schools."""
    schools = world.schools
    paused = {status: paused_by_an_undo(schools[status]) for status in ("stale", "ok")}
    form = load(world)
    with statements_sent() as one:
        post(world, "sync", [schools["stale"]], form)
    with statements_sent() as three:
        post(world, "sync", [schools["ok"], schools["failing"], schools["never_synced"]], form)
    assert len(sync_now_statements(three)) == len(sync_now_statements(one)), (one, three)
    assert {school_id: paused for school_id, paused in schedules().items()
            if paused.paused_at is not None} == {}
    assert resumed_entries() == {
        schools[status].id: ({"paused_by_run": run_id}, world.admin.id)
        for status, run_id in paused.items()}
    # A school whose sync was already running got no new one: its pause stays.
    paused_by_an_undo(schools["ok"])
    again = post(world, "sync", [schools["ok"]])
    assert "already running or waiting for a worker" in row(again.text, schools["ok"])
    assert schedules()[schools["ok"].id].paused_at is not None
    assert len(resumed_entries()) == 2


def test_a_syncing_row_refreshes_itself_until_its_run_ends(world):
    school = world.schools["ok"]
    answer = post(world, "sync", [school], headers=HTMX)
    assert f'hx-get="{world.url}{school.id}/row" hx-trigger="every 3s"' in answer.text
    row_url = f"{world.url}{school.id}/row?school={school.id}"
    polled = world.client.get(row_url, headers=HTMX)
    assert 'hx-trigger="every 3s"' in polled.text and " checked" in polled.text
    finish_run(runs(school, m.QUEUED)[0].id, m.COMPLETE, counts={"added": 6})
    finished = world.client.get(row_url, headers=HTMX)
    assert "hx-trigger" not in finished.text and "6 added" in finished.text
    other = world.client.get(f"{world.url}{world.other.id}/row", headers=HTMX)
    assert other.status_code == 404


def assert_refused(world, app, answer, words, status=422):
    assert answer.status_code == status and words in answer.text


@pytest.mark.parametrize("htmx", [False, True], ids=["without JavaScript", "htmx"])
def test_a_forged_school_id_is_refused_and_nothing_is_done(app, world, htmx):
    form = load(world)
    before = (database_snapshot(), queue_snapshot(app))
    for action in ("sync", "schedule"):
        answer = post(world, action, [world.schools["ok"], world.other],
                      dict(form, frequency="daily", time_of_day="02:00",
                           time_zone="Europe/London"), headers=HTMX if htmx else None)
        assert answer.status_code == (200 if htmx else 422)
        assert "the selection named a school that is not in your list" in answer.text
        assert ("<html" in answer.text) is not htmx
        assert (database_snapshot(), queue_snapshot(app)) == before
    # An id in the page's list under a tampered signature, or none at all: refused too.
    for shown in (form["shown"][:-2] + "xx", ""):
        answer = post(world, "sync", [world.schools["ok"]], dict(form, shown=shown))
        assert "this page was out of date" in answer.text
    assert "not in your list" in post(world, "sync", ["1 OR 1=1"], form).text
    assert (database_snapshot(), queue_snapshot(app)) == before


def test_a_forged_id_of_digits_python_cannot_read_is_refused_not_an_error(app, world):
    """"²" is a digit to str.isdigit but not to int(): such an id once answered 500."""
    form = load(world)
    before = (database_snapshot(), queue_snapshot(app))
    for action in ("sync", "schedule"):
        answer = post(world, action, ["\u00b2", world.schools["ok"]],
                      dict(form, frequency="daily", time_of_day="02:00", time_zone="Europe/London"))
        assert answer.status_code == 422 and "not in your list" in answer.text
    assert (database_snapshot(), queue_snapshot(app)) == before


@pytest.mark.parametrize("action", ["sync", "schedule"])
def test_every_school_in_this_list_from_a_form_not_the_pages_is_refused_and_nothing_is_done(
        app, world, action):
    """"Every school in this list" once skipped the check of the page's signed list, so a
    form with none, or a tampered one, acted on every school."""
    form = dict(load(world), all_matching="1", frequency="6h", time_of_day="",
                time_zone="Europe/London")
    before = (database_snapshot(), queue_snapshot(app))
    for shown in (form["shown"][:-2] + "xx", ""):
        answer = post(world, action, [], dict(form, shown=shown))
        assert answer.status_code == 422 and "this page was out of date" in answer.text
    assert (database_snapshot(), queue_snapshot(app)) == before


@pytest.mark.parametrize("action", ["sync", "schedule"])
def test_every_school_in_this_list_with_a_refused_search_is_refused_and_nothing_is_done(
        app, world, action):
    """A search too long to run is no search: "every school in this list" once acted on every
    school of the filter instead of the one searched for."""
    form = dict(load(world), all_matching="1", q=world.schools["ok"].name + "x" * 300,
                frequency="6h", time_of_day="", time_zone="Europe/London")
    before = (database_snapshot(), queue_snapshot(app))
    answer = post(world, action, [], form)
    assert answer.status_code == 422
    assert "That search is too long: use at most 200 characters" in answer.text
    assert "Nothing was done." in answer.text
    assert (database_snapshot(), queue_snapshot(app)) == before


def test_every_school_in_this_list_is_the_list_shown_even_once_nothing_needs_attention(world):
    """The default list (Needs attention) was worked out again when the form came back: once
    its schools were fine, "every school in this list" became every school."""
    kept = {world.schools["failing"].id, world.schools["ok"].id}
    db.session.execute(Membership.__table__.delete().where(
        Membership.user_id == world.admin.id, Membership.organisation_id.not_in(kept)))
    db.session.commit()
    with frozen_at(NOW):
        page = world.client.get(world.url).text  # the default: Needs attention, Elm High only
    assert row_names_of(page) == ["Elm High"]
    actions_form = re.search(r'<form[^>]*id="schools-actions".*?</form>', page, re.S).group(0)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', actions_form))
    run(world.schools["failing"], m.COMPLETE, NOW)  # fine now: nothing needs attention
    db.session.commit()
    before = schedules()[world.schools["ok"].id].frequency
    answer = post(world, "schedule", [], dict(fields, all_matching="1", frequency="6h",
                                              time_of_day="", time_zone="Europe/London"))
    assert answer.status_code == 422
    assert ("Nothing was done: no school is in this list any more (their statuses have changed "
            "since the page loaded). Reload the page") in answer.text  # not "tick its box"
    assert schedules()[world.schools["ok"].id].frequency == before == "daily"


def test_a_time_of_digits_python_cannot_read_gets_the_forms_words_not_pythons(world):
    answer = post(world, "schedule", [world.schools["ok"]], dict(
        load(world), frequency="daily", time_of_day="\u00b2:00", time_zone="Europe/London"))
    assert answer.status_code == 422 and "Enter the time as HH:MM" in answer.text
    assert "invalid literal" not in answer.text


def test_nothing_selected_says_so_and_keeps_the_typed_schedule(app, world):
    before = database_snapshot()
    answer = post(world, "schedule", [], dict(load(world), frequency="6h", time_of_day="",
                                              time_zone="Europe/Paris"))
    assert answer.status_code == 422 and "Select at least one school first" in answer.text
    assert '<option value="6h" selected>' in answer.text
    assert "<option selected>Europe/Paris</option>" in answer.text
    assert database_snapshot() == before


def test_schools_deleted_or_no_longer_administered_since_the_page_loaded_are_answered_per_row(
        world):
    form = load(world)
    gone, demoted, fine = world.schools["never_synced"], world.schools["failing"], world.schools["ok"]
    names = gone.name, demoted.name
    db.session.delete(gone)
    db.session.execute(Membership.__table__.update().where(
        Membership.organisation_id == demoted.id).values(role="member"))
    db.session.commit()
    answer = post(world, "sync", [gone, demoted, fine], form)
    assert answer.status_code == 200
    assert f"{names[0]}: Not done: this school no longer exists." in answer.text
    assert f"{names[1]}: Not done: you are no longer an admin of this school." in answer.text
    assert "Sync queued" in row(answer.text, fine) and not runs(demoted, m.QUEUED)


def test_a_school_disconnected_since_the_page_loaded_is_not_queued_and_says_why(world):
    form = load(world)
    disconnect(world.schools["ok"])
    answer = post(world, "sync", [world.schools["ok"]], form)
    assert "Not queued: this school is not connected to Microsoft" in row(
        answer.text, world.schools["ok"])
    assert runs(world.schools["ok"], m.QUEUED) == []


def test_more_than_500_schools_does_the_first_500_and_names_the_rest(app, world):
    oak = world.schools["ok"].trust_id
    db.session.execute(insert(Organisation), [
        {"name": f"Bulk School {n:03d}", "trust_id": oak, "time_zone": "Europe/London"}
        for n in range(505)])
    ids = db.session.scalars(select(Organisation.id).where(
        Organisation.name.like("Bulk School %")).order_by(Organisation.name)).all()
    db.session.execute(insert(Membership), [
        {"user_id": world.admin.id, "organisation_id": org_id, "role": "admin",
         "source": "manual", "status": "active"} for org_id in ids])
    db.session.execute(insert(GroupChoice), [
        {"organisation_id": org_id, "group_id": "staff", "display_name": "Staff",
         "kind": "security", "role": "sync"} for org_id in ids])
    db.session.commit()
    form = dict(load(world, "?status=never_synced"), status="never_synced", all_matching="1")
    answer = post(world, "sync", [], form)
    assert "Sync now: done for 500 schools; not done for 6" in answer.text
    for name in ("Bulk School 500", "Bulk School 504", "Gorse Junior"):
        assert f"{name}: Not done: more than 500 schools were selected" in answer.text
    queued = db.session.scalar(select(db.func.count()).select_from(m.SyncRun).where(
        m.SyncRun.status == m.QUEUED))
    assert queued == 500 and queue_snapshot(app)[app.config["QUEUE_SYNC"]] == 500


@pytest.mark.parametrize("sort", ["groups", "people", "last_sync"])
def test_every_school_in_this_list_sorted_by_a_column_read_for_shown_rows_only_is_done(world, sort):
    """Groups, Active people and the last sync's time are read for the shown rows only, unless
    the list is sorted by them: "every school in this list" sorts the whole list too (it
    raised, sorted by Groups)."""
    form = dict(load(world, f"?status=all&sort={sort}"), status="all", sort=sort,
                all_matching="1")
    answer = post(world, "sync", [], form)
    assert answer.status_code == 200
    assert "Sync now: done for 5 schools; not done for 3" in answer.text
    assert len(runs(world.schools["ok"], m.QUEUED)) == 1


@pytest.mark.parametrize("forged", ["frequency", "time_zone"])
def test_a_forged_choice_on_apply_schedule_shows_what_was_sent_or_the_default_never_a_third_thing(
        world, forged):
    """A zone or frequency not in its list once came back with nothing selected, so the browser
    showed the list's first entry (Africa/Abidjan, or Off)."""
    sent = dict(load(world), frequency="6h", time_of_day="", time_zone="Europe/Paris")
    sent[forged] = {"frequency": "every-minute", "time_zone": "Mars/Olympus_Mons"}[forged]
    answer = post(world, "schedule", [world.schools["ok"]], sent)
    assert answer.status_code == 422 and 'aria-invalid="true"' in answer.text
    shown_frequency = "daily" if forged == "frequency" else "6h"  # the form's default, else as sent
    shown_zone = organisation_zone(world.schools["ok"].time_zone).key if forged == "time_zone" else "Europe/Paris"
    assert f'<option value="{shown_frequency}" selected>' in answer.text
    assert f"<option selected>{shown_zone}</option>" in answer.text


def schedules():
    db.session.expire_all()
    return {row.organisation_id: row for row in db.session.scalars(select(SyncSchedule))}


def test_apply_schedule_is_checked_once_then_saved_and_audited_per_school(world):
    schools = world.schools
    chosen = [schools["no_group"], schools["never_synced"], schools["ok"]]
    before = (schedules().keys(), database_snapshot())
    refused = post(world, "schedule", chosen, dict(load(world), frequency="daily",
                                                   time_of_day="25:00", time_zone="Europe/London"))
    assert refused.status_code == 422
    assert "25:00 is not a time of day: use 00:00 to 23:59." in refused.text
    assert 'aria-invalid="true"' in refused.text and 'value="25:00"' in refused.text
    assert all(f'id="select-{school.id}" name="school" value="{school.id}" checked' in refused.text
               for school in chosen)
    assert (schedules().keys(), database_snapshot()) == before
    answer = post(world, "schedule", chosen, dict(load(world), frequency="daily",
                                                  time_of_day="02:00", time_zone="Europe/London"),
                  headers=HTMX)
    assert "Apply schedule: done for 2 schools; not done for 1" in answer.text
    assert "Not saved: Choose the groups to sync in Import settings" in row(
        answer.text, schools["no_group"])
    saved = schedules()
    for school in (schools["never_synced"], schools["ok"]):
        assert (saved[school.id].frequency, saved[school.id].minute_of_day) == ("daily", 120)
        assert re.search(r"Schedule saved\.", row(answer.text, school))
        assert re.search(r"8 Dec 2026, 02:\d\d GMT", row(answer.text, school))
    assert schools["no_group"].id not in saved
    changed = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == actions.SCHEDULE_CHANGED)).all()
    # The OK school had Every day at 02:00 already: a save that changes nothing is not logged.
    assert [entry.organisation_id for entry in changed] == [schools["never_synced"].id]


def test_apply_schedule_to_a_school_paused_after_an_undo_says_it_is_on_again(world):
    """Saving the same schedule ended the pause, with the entry dropped as "nothing changed"
    and the row saying only "Schedule saved.": the next tick redid what was undone, unsaid."""
    school = world.schools["ok"]  # Every day at 02:00 already
    undone = paused_by_an_undo(school)
    answer = post(world, "schedule", [school], dict(load(world), frequency="daily",
                                                   time_of_day="02:00", time_zone="Europe/London"),
                  headers=HTMX)
    assert "Schedule saved. Automatic sync is on again: it was paused after an undo." in row(
        answer.text, school)
    assert schedules()[school.id].paused_at is None
    [entry] = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == actions.SCHEDULE_CHANGED,
        AuditEntry.organisation_id == school.id)).all()
    assert json.loads(entry.before)["paused_by_run"] == undone
    assert json.loads(entry.after)["paused_by_run"] is None
