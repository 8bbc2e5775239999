"""Settings › Activity: the audit log for admins; filters, pages, CSV; append-only; retention
choice recorded (a refused one not); key rotation from the command line recorded."""
import csv
import io
import re
import subprocess
import sys
import textwrap
from datetime import datetime, timezone
from pathlib import Path

import pytest

from harness.factory import csrf_token_from, version_for
from tests.privacy.audit_helpers import entries, only_entry, values
from webapp import audit
from webapp.audit import actions
from webapp.audit.models import AuditEntry
from webapp.extensions import db
from webapp.privacy.retention import retention_for

HTMX = {"HX-Request": "true"}
ROOT = Path(__file__).resolve().parents[2]


def activity_url(org, query=""):
    return f"/o/{org.id}/settings/activity/{query}"


def save_retention(client, org, data, headers=None):
    page = client.get(f"/o/{org.id}/settings/user-sync/")
    url = f"/o/{org.id}/settings/privacy/retention"
    return client.post(url, headers=headers or {}, data={
        "csrf_token": csrf_token_from(page.text), "version": version_for(page.text, url), **data})


def test_the_audit_log_has_no_route_that_changes_or_deletes_an_entry(app):
    audit_rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("audit.")]
    assert {rule.endpoint for rule in audit_rules} == {"audit.index", "audit.export_csv"}
    for rule in app.url_map.iter_rules():
        writes = rule.methods - {"GET", "HEAD", "OPTIONS"}
        if writes:
            assert "activity" not in rule.rule and "audit" not in rule.rule, rule.rule
            assert not ({"PUT", "PATCH", "DELETE"} & writes), rule.rule


def test_retention_change_is_recorded_and_shown_on_the_activity_page(admin_client, admin):
    response = save_retention(admin_client, admin.org, {"mode": "days", "days": "30"})
    assert response.status_code == 303
    entry = only_entry(actions.RETENTION_CHANGED, admin.org.id)
    assert values(entry.before) == {"erase_leavers_after_days": 90}
    assert values(entry.after) == {"erase_leavers_after_days": 30}
    page = admin_client.get(activity_url(admin.org)).text
    assert "Leaver retention changed</td>" in page and "Signed in</td>" in page
    assert admin.user.email in page


def test_a_refused_retention_leaves_no_entry_and_says_why_next_to_the_field(admin_client, admin):
    for days in ("3", "4000", "ninety", ""):
        response = save_retention(admin_client, admin.org, {"mode": "days", "days": days})
        assert response.status_code == 422
        assert 'id="retention-days-error"' in response.text and "from 7 to 3650" in response.text
        assert 'aria-describedby="retention-days-error"' in response.text
    partial = save_retention(admin_client, admin.org, {"mode": "days", "days": "2"}, HTMX)
    assert partial.status_code == 200 and "retention-days-error" in partial.text
    assert "<html" not in partial.text
    assert entries(actions.RETENTION_CHANGED) == []
    assert retention_for(admin.org.id).id is None  # nothing saved


def test_a_forged_retention_choice_is_refused_showing_what_was_saved_never_a_third_thing(
        admin_client, admin):
    """A mode the form does not offer was once saved as a number of days, and came back with
    This many days chosen while Never was saved."""
    save_retention(admin_client, admin.org, {"mode": "never", "days": ""})
    response = save_retention(admin_client, admin.org, {"mode": "forever", "days": "45"})
    assert response.status_code == 422 and "Choose This many days or Never." in response.text
    assert 'value="never" checked' in response.text
    assert 'value="days" checked' not in response.text and 'value="45"' in response.text
    db.session.expire_all()
    assert retention_for(admin.org.id).erase_leavers_after_days is None  # still Never


def test_never_is_a_choice(admin_client, admin):
    save_retention(admin_client, admin.org, {"mode": "never", "days": ""})
    db.session.expire_all()
    assert retention_for(admin.org.id).erase_leavers_after_days is None
    assert values(only_entry(actions.RETENTION_CHANGED).after) == {"erase_leavers_after_days": "never"}


def test_key_rotation_from_the_command_line_is_recorded(app, admin_client, admin):
    result = app.test_cli_runner().invoke(args=["keys", "rotate-token-cache"])
    assert result.exit_code == 0, result.output
    entry = only_entry(actions.KEYS_ROTATED)
    assert entry.origin == "cli" and entry.actor_user_id is None and entry.organisation_id is None
    assert values(entry.after) == {"re_encrypted": 0, "unreadable": 0,
                                   "authenticator_apps_re_encrypted": 0,
                                   "authenticator_apps_unreadable": 0}
    assert "Token encryption key rotated" in admin_client.get(activity_url(admin.org)).text


def add_entries(org, count, action=actions.SYNC_STARTED, when=None, **fields):
    for _ in range(count):
        entry = audit.record(action, org.id, **fields)
        if when:
            entry.created_at = when
    db.session.commit()


@pytest.mark.both_databases
def test_filter_by_action_and_date_and_pages(admin_client, admin):
    long_ago = datetime(2025, 1, 10, 12, tzinfo=timezone.utc)
    add_entries(admin.org, 60, actions.SYNC_STARTED)
    add_entries(admin.org, 3, actions.PREVIEW_STARTED, when=long_ago)
    first = admin_client.get(activity_url(admin.org, "?action=sync.started")).text
    assert "60 entries" in first and "Page 1 of 2" in first and "Preview started</td>" not in first
    second = admin_client.get(activity_url(admin.org, "?action=sync.started&page=2")).text
    assert "Page 2 of 2" in second
    dated = admin_client.get(activity_url(admin.org, "?from=2025-01-10&to=2025-01-10")).text
    assert "3 entries" in dated and "Preview started" in dated
    before = admin_client.get(activity_url(admin.org, "?to=2025-01-09")).text
    assert "0 entries" in before


def test_another_schools_activity_is_not_shown(admin_client, admin, factory):
    other = factory.organisation("Elsewhere School")
    add_entries(other, 1, actions.SYNC_SETTINGS_CHANGED)
    page = admin_client.get(activity_url(admin.org)).text
    assert "Sync settings changed</td>" not in page and "1 entry" in page  # its own sign-in


def test_csv_export_neutralises_formulas_and_is_recorded(admin_client, admin):
    add_entries(admin.org, 1, actions.PERSON_EXCLUDED, subject_label="=HYPERLINK(\"http://x\")")
    response = admin_client.get(activity_url(admin.org, "activity.csv?action=person.excluded"))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:3] == ["time_utc", "action", "who"]
    assert len(rows) == 2 and rows[1][4] == "'=HYPERLINK(\"http://x\")"
    assert rows[1][1] == "Person excluded from sync"
    entry = only_entry(actions.CSV_EXPORTED, admin.org.id)
    assert values(entry.after) == {"action": "person.excluded", "export": "activity",
                                   "from": None, "to": None}


def test_secret_looking_values_never_reach_the_log(app, admin):
    entry = audit.record(actions.SYNC_SETTINGS_CHANGED, admin.org.id, commit=True,
                         after={"client_secret": "s3cr3t", "password": "pw", "note":
                                "Bearer abcdefghijklmnop", "percent": 5})
    db.session.expire_all()
    stored = db.session.get(AuditEntry, entry.id).after
    assert "s3cr3t" not in stored and "pw" not in values(stored).values()
    assert "abcdefghijklmnop" not in stored and values(stored)["percent"] == 5


def test_an_existing_school_is_asked_to_choose(admin_client, admin):
    from webapp.privacy.models import PrivacySettings
    db.session.add(PrivacySettings(organisation_id=admin.org.id, erase_leavers_after_days=None,
                                   needs_choice=True))
    db.session.commit()
    page = admin_client.get(f"/o/{admin.org.id}/settings/user-sync/").text
    assert "Choose how long to keep leavers" in page
    save_retention(admin_client, admin.org, {"mode": "days", "days": "365"})
    page = admin_client.get(f"/o/{admin.org.id}/settings/user-sync/").text
    assert "Choose how long to keep leavers" not in page and 'value="365"' in page


@pytest.mark.both_databases  # the dates reach each database's own timestamp type
def test_a_date_the_log_cannot_hold_gets_a_message_by_its_field_not_a_500(admin_client, admin):
    add_entries(admin.org, 2, actions.SYNC_STARTED)
    for query, field in (("?to=9999-12-31", "to"), ("?from=0001-01-01", "from"),
                         ("?from=2026-02-30", "from")):
        for url in (activity_url(admin.org, query), activity_url(admin.org, "activity.csv" + query)):
            response = admin_client.get(url)
            assert response.status_code == (400 if ".csv" in url else 200), url
            html = response.text
            assert f'aria-invalid="true" aria-describedby="activity-{field}-error"' in html, url
            assert f'id="activity-{field}-error">' in html and "<table" not in html
    html = admin_client.get(activity_url(admin.org, "?to=9999-12-31")).text
    assert "Enter a date from 1 Jan 2000 to 31 Dec 2099, or leave To empty for no end date." in html
    assert 'value="9999-12-31"' in html  # what was typed, to correct
    assert entries(actions.CSV_EXPORTED) == []  # a refused export is not one


def test_a_10000_digit_retention_is_refused_by_its_field_and_nothing_saved(admin_client, admin):
    for headers in ({}, HTMX):
        response = save_retention(admin_client, admin.org, {"mode": "days", "days": "9" * 10_000},
                                  headers)
        assert response.status_code == (422 if not headers else 200)
        assert 'id="retention-days-error"' in response.text
        assert "Enter a number of days from 7 to 3650, or choose Never." in response.text
    assert retention_for(admin.org.id).id is None and entries(actions.RETENTION_CHANGED) == []


def test_the_export_holds_what_the_filter_form_says(admin_client, admin):
    long_ago = datetime(2025, 1, 10, 12, tzinfo=timezone.utc)
    add_entries(admin.org, 4, actions.SYNC_STARTED)
    add_entries(admin.org, 3, actions.PREVIEW_STARTED, when=long_ago)
    page = admin_client.get(activity_url(admin.org)).text
    # Export CSV is a button of the filter form: it sends the fields, not an address made earlier.
    start = page.index('<form method="get"')
    form = page[start:page.index("</form>", start)]
    assert f'formaction="/o/{admin.org.id}/settings/activity/activity.csv"' in form
    exported = admin_client.get(activity_url(
        admin.org, "activity.csv?action=sync.preview_started&from=2025-01-10&to=2025-01-10"))
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True))))[1:]
    assert [row[1] for row in rows] == ["Preview started"] * 3


def cells_of(page, action_label):
    """The text of each cell of the first row whose Action is `action_label`."""
    row = next(row for row in page.split("<tr>") if f"<td>{action_label}</td>" in row)
    return [" ".join(re.sub(r"<[^>]+>", " ", "<td" + cell).split())
            for cell in row.split("<td")[1:]]


def test_a_save_that_changes_nothing_is_not_logged_and_values_read_as_words(admin_client, admin):
    from webapp.user_sync.settings import save_settings
    save_retention(admin_client, admin.org, {"mode": "days", "days": "30"})
    save_retention(admin_client, admin.org, {"mode": "days", "days": "30"})  # 30 → 30
    assert len(entries(actions.RETENTION_CHANGED)) == 1
    save_settings(admin.org.id, False, "20", "5")
    save_settings(admin.org.id, False, "20", "5")
    assert len(entries(actions.SYNC_SETTINGS_CHANGED)) == 1
    audit.record(actions.SCHEDULE_CHANGED, admin.org.id, commit=True,  # as save_schedule does
                 before={"frequency": "off", "minute_of_day": None, "time_zone": "Europe/London"},
                 after={"frequency": "daily", "minute_of_day": 90, "time_zone": "Europe/London"})
    page = admin_client.get(activity_url(admin.org)).text
    retention = cells_of(page, "Leaver retention changed")
    assert retention[4:6] == ["Erase leavers after 90 days", "Erase leavers after 30 days"]
    settings = cells_of(page, "Sync settings changed")  # only what changed
    assert settings[4:6] == ["Review removals above 10%", "Review removals above 20%"], settings
    schedule = cells_of(page, "Sync schedule changed")
    assert schedule[4:6] == ["Automatic sync Off Time of day —",
                             "Automatic sync Every day Time of day 01:30"], schedule
    assert "minute_of_day" not in page and "erase_leavers_after_days" not in page


def test_a_schedule_change_reads_as_words_whatever_was_imported_before():
    """The frequency's words were once put into the log's table by webapp.schedule.services
    when that was imported: a process that had not imported it (a CLI command, a job) read
    "daily" where the page says "Every day". A fresh interpreter imports the log's words alone."""
    code = textwrap.dedent(f"""
        import sys
        from types import SimpleNamespace
        from webapp.audit.values import shown_values
        assert "webapp.schedule.services" not in sys.modules, "the check needs it not imported"
        entry = SimpleNamespace(action={actions.SCHEDULE_CHANGED!r},
                                before='{{"frequency": "off", "minute_of_day": null}}',
                                after='{{"frequency": "4h", "minute_of_day": 90}}')
        shown = [[(value.label, value.text) for value in side]
                 for side in shown_values(entry, None)]
        assert shown == [[("Automatic sync", "Off"), ("Time of day", "—")],
                         [("Automatic sync", "Every 4 hours"), ("Time of day", "01:30")]], shown
    """)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr


@pytest.mark.both_databases  # SQLite compares the stored UTC wall clock
def test_times_and_the_date_filter_are_in_the_schools_time_zone(admin_client, admin):
    summer_evening = datetime(2026, 7, 2, 23, 30, tzinfo=timezone.utc)  # 3 Jul, 00:30 BST
    add_entries(admin.org, 1, actions.PREVIEW_STARTED, when=summer_evening)
    page = admin_client.get(activity_url(admin.org, "?action=sync.preview_started")).text
    assert "3 Jul 2026, 00:30 BST" in page and "(UTC)" not in page
    on_the_3rd = admin_client.get(activity_url(admin.org, "?from=2026-07-03&to=2026-07-03")).text
    assert "1 entry" in on_the_3rd
    on_the_2nd = admin_client.get(activity_url(admin.org, "?from=2026-07-02&to=2026-07-02")).text
    assert "0 entries" in on_the_2nd


def test_from_after_to_says_so_by_the_to_field(admin_client, admin):
    add_entries(admin.org, 2, actions.SYNC_STARTED)
    for url in (activity_url(admin.org, "?from=2026-09-10&to=2026-09-01"),
                activity_url(admin.org, "activity.csv?from=2026-09-10&to=2026-09-01")):
        html = admin_client.get(url).text
        assert 'aria-invalid="true" aria-describedby="activity-to-error"' in html, url
        assert ("To (1 Sep 2026) is before From (10 Sep 2026): choose a To date on or after "
                "From.") in html and "<table" not in html
