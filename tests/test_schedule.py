"""Automatic sync: the card, its validation, the tick and CLI, pauses, retries, and history."""
import re
from datetime import timedelta
from importlib import resources
from zoneinfo import ZoneInfo

import pytest

from tests.schedule_helpers import (
    HTMX, due_moment, ran_as_queued, run_tick, runs_of, save_schedule, schedule_of, sync_page)
from tests.statements import statements_sent
from tests.sync_helpers import NORTHFIELD, people, sync_in_process
from webapp.clock import as_utc, utcnow
from webapp.extensions import db
from webapp.microsoft.models import RECONNECT_NEEDED
from webapp.microsoft.selection import GroupChoice
from webapp.schedule.services import ScheduleInvalid, validate_time_zone
from webapp.zones import choosable_zones
from webapp.user_sync import models as m
from webapp.user_sync.settings import save_settings


def test_every_day_at_a_time_shows_the_next_automatic_sync_in_the_schools_time_zone(school):
    response = save_schedule(school, "daily", "02:00")
    assert response.status_code == 200
    assert "Schedule saved." in response.text and "Next automatic sync:" in response.text
    saved = schedule_of(school.org)
    local = saved.next_due_at.replace(tzinfo=utcnow().tzinfo).astimezone(
        ZoneInfo("Europe/London"))
    assert (local.hour, 0 <= local.minute < 30) == (2, True)
    assert f"{local.day} {local:%b %Y, %H:%M %Z}." in sync_page(school).text


def test_a_school_abroad_chooses_its_time_zone_and_every_date_follows_it(school):
    page = sync_page(school).text
    assert '<option selected>Europe/London</option>' in page  # the default, shown chosen
    response = save_schedule(school, "daily", "02:00", time_zone="America/New_York")
    assert "Schedule saved." in response.text
    db.session.refresh(school.org)
    assert school.org.time_zone == "America/New_York"
    local = schedule_of(school.org).next_due_at.replace(tzinfo=utcnow().tzinfo).astimezone(
        ZoneInfo("America/New_York"))
    assert (local.hour, 0 <= local.minute < 30) == (2, True)
    page = sync_page(school).text
    assert f"{local.day} {local:%b %Y, %H:%M %Z}." in page  # EST
    assert '<option selected>America/New_York</option>' in page


@pytest.mark.parametrize("time_zone", ["Mars/Olympus_Mons", "", "GB", "../etc/passwd",
                                       "Asia/Calcutta", "US/Eastern", "Etc/GMT+1"])
def test_a_time_zone_not_on_the_list_is_refused_next_to_the_control_and_nothing_saved(
        school, time_zone):
    response = save_schedule(school, "daily", "02:00", time_zone=time_zone)
    error = response.text.split('id="schedule-time-zone-error">', 1)[1].split("</p>", 1)[0]
    assert "Choose the school&#39;s time zone from the list" in error
    db.session.refresh(school.org)
    assert school.org.time_zone == "Europe/London" and schedule_of(school.org) is None


def zone_options(html):
    """The options of the Time zone select in `html`."""
    select = html.split('id="schedule-time-zone"', 1)[1].split("</select>", 1)[0]
    return re.findall(r"<option(?: selected)?>([^<]+)</option>", select)


def chosen_zone(html):
    select = html.split('id="schedule-time-zone"', 1)[1].split("</select>", 1)[0]
    return re.findall(r"<option selected>([^<]+)</option>", select)


def test_the_card_offers_the_uk_zones_and_every_other_zone_one_step_away(school):
    """Manage user sync once sent all ~600 names Python knows (aliases such as Asia/Calcutta
    included) with every view: 16 KB of a 58 KB page."""
    page = sync_page(school).text
    assert zone_options(page) == ["Europe/London", "Europe/Dublin", "Europe/Guernsey",
                                  "Europe/Isle_of_Man", "Europe/Jersey", "Europe/Gibraltar", "UTC"]
    assert chosen_zone(page) == ["Europe/London"]
    more = f"/o/{school.org.id}/settings/user-sync/schedule/time-zones"
    assert f'href="{more}" hx-get="{more}"' in page and "Other time zone…" in page

    field = school.client.get(more + "?time_zone=Europe/Dublin", headers=HTMX).text
    assert "<html" not in field and 'id="schedule-time-zone-field"' in field
    every = zone_options(field)
    assert chosen_zone(field) == ["Europe/Dublin"] and "autofocus" in field
    assert {"Asia/Kolkata", "Europe/Kyiv", "America/Argentina/Buenos_Aires", "Pacific/Auckland",
            "Europe/Amsterdam", "UTC"} <= set(every)
    assert not {"Asia/Calcutta", "Europe/Kiev", "America/Buenos_Aires", "US/Eastern", "GB",
                "Etc/GMT+1"} & set(every)
    assert every == sorted(every[:-1]) + ["UTC"] and len(every) == len(set(every))

    # Without JavaScript the link is a page of its own whose form saves the schedule.
    whole = school.client.get(more).text
    assert "<h1>Automatic sync</h1>" in whole and "was not saved" not in whole
    assert zone_options(whole) == every and chosen_zone(whole) == ["Europe/London"]
    assert f'action="/o/{school.org.id}/settings/user-sync/schedule/"' in whole


def test_the_htmx_time_zone_field_reads_only_what_the_field_shows(school):
    """Other time zone… once built the whole card to draw one select: the schedule, its version,
    and what might pause it (the connection, the groups, a review waiting), 13 statements."""
    save_schedule(school, "daily", "02:00")  # on, so the card would ask what might pause it
    url = f"/o/{school.org.id}/settings/user-sync/schedule/time-zones?time_zone=Europe/Dublin"
    with statements_sent() as statements:
        field = school.client.get(url, headers=HTMX).text
    assert chosen_zone(field) == ["Europe/Dublin"] and "<html" not in field
    tables = [re.search(r"\bFROM (\w+)", statement).group(1) for statement in statements]
    assert tables == [
        "account_sessions",  # the browser's sign-in session (the login manager's user loader)
        "users",  # its account
        "memberships",  # ...still active in some school, or the session ends
        "organisations",  # the school in the address (org_scoped)
        "memberships",  # the admin's membership of it (admin_required)
        "organisations",  # schools whose two-step rule the admin has yet to meet
    ], statements  # nor the reconnect banner's connection, nor the header's schools: no page


def test_every_zone_iana_keeps_is_accepted_and_only_those(school):
    """The oracle is tzdata's own compiled source: each Zone it defines under a continent or
    ocean is accepted; what the card offers is exactly what saving accepts."""
    source = resources.files("tzdata.zoneinfo").joinpath("tzdata.zi").read_text("utf-8")
    zones = {line.split()[1] for line in source.splitlines() if line.startswith("Z ")}
    geographic = {name for name in zones if "/" in name and not name.startswith("Etc/")}
    assert len(geographic) > 300
    for name in sorted(geographic) + ["UTC"]:
        assert validate_time_zone(name) == name
    offered = zone_options(school.client.get(
        f"/o/{school.org.id}/settings/user-sync/schedule/time-zones", headers=HTMX).text)
    assert set(offered) == set(choosable_zones()) and geographic <= set(offered)
    for name in ("Asia/Calcutta", "Europe/Kiev", "GB-Eire", "Mars/Olympus_Mons"):
        with pytest.raises(ScheduleInvalid):
            validate_time_zone(name)


def test_a_zone_from_further_away_stays_chosen_in_the_short_list(school):
    response = save_schedule(school, "daily", "02:00", time_zone="Asia/Kolkata")
    assert "Schedule saved." in response.text
    page = sync_page(school).text
    assert chosen_zone(page) == ["Asia/Kolkata"]
    assert zone_options(page)[:2] == ["Asia/Kolkata", "Europe/London"]


def test_a_zone_saved_under_an_old_name_is_shown_and_kept_by_the_next_save(school):
    """A school that chose Asia/Calcutta when the list still had the old names."""
    school.org.time_zone = "Asia/Calcutta"
    db.session.commit()
    assert chosen_zone(sync_page(school).text) == ["Asia/Calcutta"]
    response = save_schedule(school, "daily", "03:00", time_zone="Asia/Calcutta")
    assert "Schedule saved." in response.text
    db.session.refresh(school.org)
    assert school.org.time_zone == "Asia/Calcutta"


@pytest.mark.parametrize("forged", ["frequency", "time_zone"])
def test_a_forged_choice_is_refused_showing_what_was_sent_or_saved_never_a_third_thing(
        school, forged):
    """Once the refused card showed the list's first zone (Africa/Abidjan) for an unknown zone,
    and Off for an unknown frequency while the schedule was on."""
    save_schedule(school, "daily", "01:30", time_zone="Europe/Paris")
    sent = {"frequency": "4h", "time_of_day": "03:00", "time_zone": "America/New_York",
            forged: {"frequency": "every-minute", "time_zone": "Mars/Olympus_Mons"}[forged]}
    response = save_schedule(school, **sent)
    assert 'aria-invalid="true"' in response.text and "Schedule saved" not in response.text
    shown = {"frequency": "daily" if forged == "frequency" else "4h",
             "time_zone": "Europe/Paris" if forged == "time_zone" else "America/New_York"}
    assert f'<option value="{shown["frequency"]}" selected>' in response.text
    assert f'<option selected>{shown["time_zone"]}</option>' in response.text
    assert response.text.count(" selected>") == 2
    assert 'value="03:00"' in response.text  # the rest as sent
    saved = schedule_of(school.org)
    assert (saved.frequency, saved.minute_of_day) == ("daily", 90)


@pytest.mark.parametrize("frequency,time_of_day,field,words", [
    ("weekly", "", "schedule-frequency-error", "Choose Off, Every day"),
    ("daily", "2am", "schedule-time-error", "HH:MM"),
    ("daily", "25:00", "schedule-time-error", "not a time of day"),
    ("daily", "", "schedule-time-error", "HH:MM"),
])
def test_a_bad_choice_answers_the_form_with_the_problem_next_to_it_and_saves_nothing(
        school, frequency, time_of_day, field, words):
    for htmx in (True, False):
        response = save_schedule(school, frequency, time_of_day, htmx=htmx)
        assert response.status_code == (200 if htmx else 422)
        error = response.text.split(f'id="{field}">', 1)[1].split("</p>", 1)[0]
        assert words in error
        assert 'aria-invalid="true"' in response.text
    assert schedule_of(school.org) is None


def test_automatic_sync_needs_a_group_and_says_so_when_it_is_gone(school):
    save_schedule(school, "4h")
    db.session.query(GroupChoice).delete()
    db.session.commit()
    page = sync_page(school).text
    assert "none, no group is chosen" in page
    # several groups can be chosen: the links say so (once "Choose the group ...")
    assert ">Choose the groups in Import settings</a>" in page
    assert ">Choose the groups to sync</a>" in page and "Choose the group " not in page
    response = save_schedule(school, "daily", "06:00")
    assert "Choose the groups to sync in Import settings" in response.text
    assert schedule_of(school.org).frequency == "4h"  # nothing saved


@pytest.mark.both_databases
def test_the_tick_queues_a_due_school_once_and_history_marks_it_automatic(app, school):
    sync_in_process(school)  # Sync now by the admin
    save_schedule(school, "daily", "03:15")
    as_of = due_moment(school.org)
    output = run_tick(app, as_of - timedelta(seconds=2))
    assert "0 queued, 0 skipped" in output  # not due yet
    output = run_tick(app, as_of)
    automatic = runs_of(school.org)[-1]
    assert automatic.trigger == m.TRIGGER_AUTOMATIC and automatic.status == m.QUEUED
    assert f"Northfield Academy: queued an automatic sync (run {automatic.id})." in output
    again = run_tick(app, as_of)  # a second tick as of the same moment finds nothing due
    assert "0 queued, 0 skipped" in again and len(runs_of(school.org)) == 2
    assert ran_as_queued(app, school).status == m.COMPLETE
    history = school.client.get(f"/o/{school.org.id}/settings/user-sync/history").text
    assert "Automatic" in history and f"{school.admin.name_or_email}, with Sync now" in history
    only_automatic = school.client.get(
        f"/o/{school.org.id}/settings/user-sync/history?trigger=automatic").text
    assert "Automatic" in only_automatic and ", with Sync now" not in only_automatic
    only_manual = school.client.get(
        f"/o/{school.org.id}/settings/user-sync/history?trigger=manual").text
    assert ", with Sync now" in only_manual and ">Automatic</td>" not in only_manual


def test_the_tick_queues_the_schools_whole_selection_of_groups(app, school):
    from tests.selection_helpers import build_school_tenant, choose
    from webapp.microsoft.selection import Selection
    ids, groups = build_school_tenant(school.sim.control)
    chosen = choose(school, synced=[groups.teaching, groups.support], excluded=[groups.pupils])
    save_schedule(school, "daily", "03:15")
    run_tick(app, due_moment(school.org))
    [automatic] = runs_of(school.org)
    assert sorted(Selection.from_json(automatic.selection).groups) == sorted(chosen.groups)
    assert automatic.group_name == "Support Staff, Teaching Staff"
    done = ran_as_queued(app, school)
    assert done.status == m.COMPLETE and done.added == 8, done.reason  # the staff, no pupils


@pytest.mark.both_databases
def test_after_six_hours_down_each_due_school_syncs_once(app, school):
    save_schedule(school, "1h")
    back = due_moment(school.org) + timedelta(hours=6)
    run_tick(app, back)
    run_tick(app, back + timedelta(seconds=30))
    assert [run.trigger for run in runs_of(school.org)] == [m.TRIGGER_AUTOMATIC]
    assert schedule_of(school.org).next_due_at.replace(tzinfo=back.tzinfo) > back


@pytest.mark.both_databases
def test_a_running_sync_is_not_doubled_and_its_slot_is_consumed(app, school):
    save_schedule(school, "daily", "04:00")
    from webapp.user_sync.engine import lifecycle
    running, _ = lifecycle.start_run(school.org, school.admin)
    output = run_tick(app, due_moment(school.org))
    assert "skipped, a sync is already running" in output
    assert len(runs_of(school.org)) == 1 and running.trigger == m.TRIGGER_MANUAL


@pytest.mark.both_databases
def test_a_run_whose_worker_is_gone_is_failed_by_the_tick_which_queues_a_fresh_one(app, school):
    """Nobody has the screen open to notice a dead run: the tick sweeps it like the screen does."""
    save_schedule(school, "daily", "04:00")
    from rq.job import Job
    from webapp.redis_conn import get_redis
    from webapp.user_sync.engine import lifecycle
    dead, _ = lifecycle.start_run(school.org, school.admin)
    Job.fetch(dead.rq_job_id, connection=get_redis()).delete()  # Redis lost it long ago
    dead.created_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    output = run_tick(app, due_moment(school.org))
    dead, fresh = runs_of(school.org)
    assert dead.status == m.FAILED and "disappeared from the job queue" in dead.reason
    assert fresh.trigger == m.TRIGGER_AUTOMATIC and fresh.status == m.QUEUED
    assert f"queued an automatic sync (run {fresh.id})" in output


@pytest.mark.parametrize("failures", [0, 3])
def test_a_dead_automatic_run_found_by_the_tick_is_replaced_at_once(app, school, failures):
    """Failing the dead automatic run recorded a failure, which moved the school's due moment
    on (a retry in 15 minutes, or, after three failures, tomorrow's slot) before the tick
    claimed it: "skipped, already queued by another tick", and no sync that slot."""
    from rq.job import Job, JobStatus
    from webapp.redis_conn import get_redis
    save_schedule(school, "daily", "04:00")
    first = due_moment(school.org)
    run_tick(app, first)
    [dead] = runs_of(school.org)
    dead.status, dead.started_at = m.RUNNING, first
    schedule_of(school.org).failures = failures
    db.session.commit()
    Job.fetch(dead.rq_job_id, connection=get_redis()).set_status(JobStatus.FAILED)
    output = run_tick(app, due_moment(school.org))  # the next day's slot
    dead, fresh = runs_of(school.org)
    assert dead.status == m.FAILED and fresh.status == m.QUEUED, output
    assert f"queued an automatic sync (run {fresh.id})" in output


def test_a_preview_at_a_daily_schools_slot_leaves_it_due(app, school):
    """A preview changes nobody, yet holding the slot it took a daily school's sync for the day."""
    from webapp.user_sync.engine import lifecycle
    save_schedule(school, "daily", "04:00")
    slot = due_moment(school.org)
    preview, _ = lifecycle.start_run(school.org, school.admin, m.KIND_PREVIEW)
    assert "an undo or a preview is running; still due" in run_tick(app, slot)
    assert as_utc(schedule_of(school.org).next_due_at) < slot


def test_a_sync_now_that_succeeds_drops_the_retry_of_a_failed_automatic_sync(app, school):
    """The retry 15 minutes after a failure ran all the same after a Sync now had succeeded."""
    from webapp.clock import frozen_at
    from webapp.user_sync.engine.lifecycle import finish_run
    save_schedule(school, "daily", "04:00")
    slot = due_moment(school.org)
    run_tick(app, slot)
    [automatic] = runs_of(school.org)
    with frozen_at(slot + timedelta(minutes=2)):
        finish_run(automatic.id, m.FAILED, reason="Microsoft was down.")
    retry_at = as_utc(schedule_of(school.org).next_due_at)
    assert retry_at - slot < timedelta(minutes=30)
    with frozen_at(slot + timedelta(minutes=5)):
        assert sync_in_process(school).status == m.COMPLETE
    schedule = schedule_of(school.org)
    assert schedule.failures == 0 and as_utc(schedule.next_due_at) - slot > timedelta(hours=20)
    assert "queued an automatic sync" not in run_tick(app, retry_at + timedelta(seconds=1))


def test_reconnect_needed_pauses_the_schedule_without_calling_microsoft(app, school, microsoft):
    save_schedule(school, "2h")
    school.connection.status = RECONNECT_NEEDED
    db.session.commit()
    assert "paused until someone" in sync_page(school).text
    microsoft.control.clear_request_log()
    output = run_tick(app, due_moment(school.org))
    assert "skipped, paused until someone reconnects to Microsoft" in output
    assert runs_of(school.org) == [] and microsoft.control.request_log() == []


def test_an_automatic_sync_stops_for_review_over_the_removal_limit_and_pauses(app, school,
                                                                               microsoft):
    sync_in_process(school)
    save_settings(school.org.id, False, 1, 1)  # more than one removal needs review
    for leaver in people(school.org, status="active")[:2]:
        assert microsoft.control.remove_member(NORTHFIELD, leaver.microsoft_id)
    save_schedule(school, "1h")
    run_tick(app, due_moment(school.org))
    automatic = runs_of(school.org)[-1]
    assert ran_as_queued(app, school).status == m.NEEDS_REVIEW
    assert "paused while a review waits" in sync_page(school).text
    output = run_tick(app, due_moment(school.org))
    assert "skipped, paused while a review waits" in output
    # Held, not replaced as an admin's Sync now would: the review still waits, no run queued.
    assert [(run.id, run.status) for run in runs_of(school.org)][-1] == (automatic.id,
                                                                         m.NEEDS_REVIEW)


def test_a_failed_automatic_sync_is_retried_after_fifteen_minutes(app, school, microsoft):
    # The retry is never later than the next regular slot, so that slot must be hours away
    # from the real moment the run fails (a fixed 05:00 failed when the suite ran at 04:57).
    half_a_day_away = (utcnow() + timedelta(hours=12)).astimezone(ZoneInfo("Europe/London"))
    save_schedule(school, "daily", f"{half_a_day_away:%H:%M}")
    regular = due_moment(school.org)
    microsoft.control.delete_group(NORTHFIELD)
    run_tick(app, regular)
    failed = ran_as_queued(app, school)
    assert failed.status == m.FAILED
    schedule = schedule_of(school.org)
    finished = failed.finished_at.replace(tzinfo=regular.tzinfo)
    assert schedule.failures == 1
    assert schedule.next_due_at.replace(tzinfo=regular.tzinfo) == finished + timedelta(minutes=15)
    page = sync_page(school).text
    assert "The last automatic sync failed;" in page and "The last 1" not in page
    schedule.failures = 3
    db.session.commit()
    assert "The last 3 automatic syncs failed;" in sync_page(school).text


def test_the_suggestion_to_turn_automatic_sync_on_appears_after_the_first_sync_until_answered(
        school):
    from harness.factory import csrf_token_from
    assert "Your first sync is done" not in sync_page(school).text
    sync_in_process(school)
    page = sync_page(school)
    assert "Your first sync is done" in page.text
    assert "Your first sync is done" in sync_page(school).text  # reading changes nothing
    school.client.post(f"/o/{school.org.id}/settings/user-sync/schedule/suggestion",
                       data={"csrf_token": csrf_token_from(page.text)})
    assert "Your first sync is done" not in sync_page(school).text


def test_turning_automatic_sync_on_answers_the_suggestion_for_good(school):
    sync_in_process(school)
    save_schedule(school, "4h")
    save_schedule(school, "off")
    assert "Your first sync is done" not in sync_page(school).text


def test_ticks_run_as_of_later_days_run_their_syncs_and_checks_on_that_clock(app, school):
    """Ticks run by hand --as-of five successive days within a minute: each day's sync finishes
    at that day's moment (not the real one), so the 48-hour check, also on the tick's clock,
    finds a recent success every day and mails nobody."""
    from tests.schedule_helpers import run_queued_syncs
    from webapp.clock import as_utc
    from webapp.notifications import events
    from webapp.notifications.models import NotificationEvent
    save_schedule(school, "daily", "01:30")
    for _ in range(5):
        as_of = due_moment(school.org)
        assert "queued an automatic sync" in run_tick(app, as_of)
        run_queued_syncs(app)
        run = runs_of(school.org)[-1]
        assert run.status == m.COMPLETE and run.trigger == m.TRIGGER_AUTOMATIC
        assert as_of <= as_utc(run.created_at) <= as_utc(run.started_at) <= as_utc(
            run.finished_at) < as_of + timedelta(minutes=5)
    raised = db.session.scalars(db.select(NotificationEvent.event)).all()
    assert events.NO_RECENT_SUCCESS not in raised, raised
