"""Every admin action leaves one audit entry (who, when, where, before/after, request, IP);
refused actions leave none for the change. Against the simulator, on SQLite and PostgreSQL."""
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

from harness.factory import csrf_token_from, post_form, sign_in
from tests.microsoft_flow import connect_organisation, demo, run_quick_jobs, start_connect
from tests.privacy.audit_helpers import entries, only_entry, values
from tests.schedule_helpers import save_schedule
from tests.sync_helpers import NORTHFIELD, connected_school, person, sync_in_process
from webapp.audit import actions
from webapp.extensions import db
from webapp.user_sync import models as m

HTMX = {"HX-Request": "true"}


def sync_url(school, path=""):
    return f"/o/{school.org.id}/settings/user-sync/{path}"


def post(school, path, data=None, headers=None):
    page = school.client.get(sync_url(school))
    return school.client.post(sync_url(school, path), headers=headers or {},
                              data={"csrf_token": csrf_token_from(page.text), **(data or {})})


def assert_web_entry(entry, school):
    assert entry.actor_user_id == school.admin.id and entry.actor_email == school.admin.email
    assert entry.origin == "web" and entry.ip == "127.0.0.1" and len(entry.request_id) >= 8
    moment = entry.created_at if entry.created_at.tzinfo else entry.created_at.replace(
        tzinfo=timezone.utc)
    assert abs(datetime.now(timezone.utc) - moment) < timedelta(minutes=5)


def test_sign_in_success_and_failure_are_recorded(app, client, factory):
    user = factory.user("head@school.example", [factory.organisation()], role="admin")
    page = client.get("/login")
    response = client.post("/login", data={"email": "head@school.example", "password": "wrong",
                                           "csrf_token": csrf_token_from(page.text)},
                           headers={"X-Request-ID": "req-failed-signin-1"})
    assert response.status_code == 401
    failure = only_entry(actions.SIGN_IN_FAILED)
    assert (failure.actor_user_id, failure.actor_email) == (user.id, "head@school.example")
    assert failure.request_id == "req-failed-signin-1" and failure.ip == "127.0.0.1"
    assert "wrong" not in (failure.after or "") and values(failure.after) == {"reason": "refused"}
    sign_in(client, "head@school.example")
    assert only_entry(actions.SIGN_IN).actor_user_id == user.id


def test_a_failed_sign_in_for_an_unknown_address_records_the_address_only(app, client):
    page = client.get("/login")
    client.post("/login", data={"email": "Nobody@Example.com", "password": "secret-guess",
                                "csrf_token": csrf_token_from(page.text)})
    entry = only_entry(actions.SIGN_IN_FAILED)
    assert entry.actor_user_id is None and entry.actor_email == "nobody@example.com"
    assert not any("secret-guess" in str(v) for v in vars(entry).values())


def test_connect_reconnect_and_disconnect_are_recorded(app, factory, client, microsoft):
    school = connected_school(factory, client, microsoft)  # the connect itself is the subject
    connected = only_entry(actions.MICROSOFT_CONNECTED, school.org.id)
    assert_web_entry(connected, school)
    assert values(connected.after)["account"] == school.connection.account_email
    assert connected.before is None
    assert connect_organisation(school.client, school.org, school.sim).status_code == 302
    reconnected = only_entry(actions.MICROSOFT_RECONNECTED, school.org.id)
    assert values(reconnected.before)["account"] == school.connection.account_email
    post_form(school.client, f"/o/{school.org.id}/settings/user-sync/import/microsoft/disconnect",
              {"confirmed": "1"},  # as from the page that asks first
              page_url=f"/o/{school.org.id}/settings/user-sync/import/microsoft")
    disconnected = only_entry(actions.MICROSOFT_DISCONNECTED, school.org.id)
    assert_web_entry(disconnected, school)
    for entry in entries():
        assert "token" not in (entry.before or "") + (entry.after or "")


def test_a_connect_refused_by_microsoft_is_recorded(school):
    client = school.client
    auth_uri = start_connect(client, school.org)
    state = parse_qs(urlsplit(auth_uri).query)["state"][0]
    client.get(f"/microsoft/callback?error=access_denied&state={state}"
               "&error_description=AADSTS65004:+User+declined")
    failed = only_entry(actions.MICROSOFT_CONNECT_FAILED, school.org.id)
    assert values(failed.after) == {"outcome": "cancelled"}


def test_a_change_of_groups_is_recorded_with_before_and_after_and_a_refused_one_is_not(school):
    entry = only_entry(actions.GROUP_CHANGED, school.org.id)
    assert values(entry.before) == {"synced_groups": None, "excluded_groups": None}
    assert values(entry.after) == {"synced_groups": "Northfield Staff", "excluded_groups": None}
    assert entry.actor_user_id == school.admin.id
    picker = f"/o/{school.org.id}/settings/user-sync/import/microsoft/groups"
    run_quick_jobs(school.client.application)  # the group snapshot: the picker's form appears
    saved = post_form(school.client, picker, {
        "action": "save", "sync": [NORTHFIELD, demo.SOUTHFIELD_STAFF_GROUP_ID],
        "exclude": demo.NORTHFIELD_TA_GROUP_ID}, page_url=picker)
    assert saved.status_code == 302
    changed = entries(actions.GROUP_CHANGED)[-1]
    assert_web_entry(changed, school)
    assert values(changed.before) == values(entry.after)
    assert values(changed.after) == {"synced_groups": "Northfield Staff, Southfield Staff",
                                     "excluded_groups": "Northfield Teaching Assistants"}
    refused = post_form(school.client, picker, {"action": "save", "sync": demo.EVERYONE_GROUP_ID},
                        page_url=picker)
    assert refused.status_code == 422 and len(entries(actions.GROUP_CHANGED)) == 2


def test_saving_sync_settings_is_recorded_and_a_refused_save_is_not(school):
    post(school, "settings", {"include_guests": "1", "removal_threshold_percent": "20",
                              "removal_threshold_minimum": "3"})
    entry = only_entry(actions.SYNC_SETTINGS_CHANGED, school.org.id)
    assert_web_entry(entry, school)
    assert values(entry.before) == {"include_guests": False, "removal_threshold_percent": 10,
                                    "removal_threshold_minimum": 5}
    assert values(entry.after) == {"include_guests": True, "removal_threshold_percent": 20,
                                   "removal_threshold_minimum": 3}
    post(school, "settings", {"removal_threshold_percent": "250", "removal_threshold_minimum": "3"})
    assert len(entries(actions.SYNC_SETTINGS_CHANGED)) == 1


def test_a_schedule_change_is_recorded_and_a_refused_one_is_not(school):
    save_schedule(school, "daily", "02:00")
    entry = only_entry(actions.SCHEDULE_CHANGED, school.org.id)
    assert_web_entry(entry, school)
    assert values(entry.before) == {"frequency": "off", "minute_of_day": None,
                                    "time_zone": "Europe/London"}
    assert values(entry.after) == {"frequency": "daily", "minute_of_day": 120,
                                   "time_zone": "Europe/London"}
    save_schedule(school, "daily", "25:61")
    assert len(entries(actions.SCHEDULE_CHANGED)) == 1


def test_sync_now_and_preview_are_recorded(school):
    post(school, "preview", headers=HTMX)
    preview = only_entry(actions.PREVIEW_STARTED, school.org.id)
    assert_web_entry(preview, school)
    db.session.query(m.SyncRun).update({"active_slot": None, "status": m.CANCELLED})
    db.session.commit()
    post(school, "sync", headers=HTMX)
    assert values(only_entry(actions.SYNC_STARTED, school.org.id).after)["group"]


def review_run(school):
    run = m.SyncRun(organisation_id=school.org.id, status=m.NEEDS_REVIEW, group_id=NORTHFIELD,
                    group_name="Northfield Staff")
    db.session.add(run)
    db.session.commit()
    return run.id


def test_review_approved_and_cancelled_are_recorded(school):
    cancelled_id = review_run(school)
    post(school, f"runs/{cancelled_id}/cancel")
    assert values(only_entry(actions.REVIEW_CANCELLED, school.org.id).after) == {"run": cancelled_id}
    post(school, f"runs/{cancelled_id}/cancel")  # already answered: refused, no second entry
    assert len(entries(actions.REVIEW_CANCELLED)) == 1
    approved_id = review_run(school)
    post(school, f"runs/{approved_id}/apply", {"confirmed": "yes"})
    entry = only_entry(actions.REVIEW_APPROVED, school.org.id)
    assert_web_entry(entry, school)
    assert values(entry.after) == {"run": approved_id}


def test_exclude_and_include_are_recorded_about_the_person(school):
    sync_in_process(school)
    someone = person(school.org, demo.OBRIEN_ID)
    post(school, f"people/{someone.id}/exclude")
    post(school, f"people/{someone.id}/include")
    excluded = only_entry(actions.PERSON_EXCLUDED, school.org.id)
    included = only_entry(actions.PERSON_INCLUDED, school.org.id)
    for entry in (excluded, included):
        assert_web_entry(entry, school)
        assert entry.subject_synced_person_id == someone.id
        assert entry.subject_label == someone.email
    assert values(excluded.before) == {"status": "active"}
    assert values(included.before) == {"status": "excluded"}


def test_people_csv_export_is_recorded(school):
    response = school.client.get(sync_url(school, "people.csv?status=active"))
    assert response.status_code == 200
    entry = only_entry(actions.CSV_EXPORTED, school.org.id)
    assert_web_entry(entry, school)
    assert values(entry.after)["export"] == "synced people"
    assert values(entry.after)["status"] == "active"
