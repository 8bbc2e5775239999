"""Two tabs (or two admins) on the same settings: a save drawn from settings that changed since
the page was loaded is refused, naming who changed them and when, and the page shows them as they
are now; nothing is lost. Every settings form goes through one guard (webapp.versions): the
schedule, the sync settings, leaver retention and notifications here; the group picker in
tests/microsoft/test_group_selection.py; two tabs on a review in tests/sync/test_screen.py."""
import threading
from datetime import datetime, timezone

import pytest
from sqlalchemy import text

from harness.factory import csrf_token_from, sign_in, version_for
from webapp import versions
from webapp.clock import frozen_at
from webapp.extensions import db
from webapp.notifications.preferences import enabled_events
from webapp.privacy.retention import retention_for
from webapp.user_sync.settings import save_settings, settings_for, settings_version

MOMENT = datetime(2026, 12, 2, 14, 5, tzinfo=timezone.utc)
SYNC = "/settings/user-sync/"


# name: (page, form action, what the other tab saves, what this tab tried, what is saved now,
#        what the refusal page shows of the saved state)
FORMS = {
    "schedule": (SYNC, SYNC + "schedule/",
                 {"frequency": "off", "time_of_day": "", "time_zone": "Europe/Dublin"},
                 {"frequency": "off", "time_of_day": "", "time_zone": "Europe/Lisbon"},
                 lambda org, user: org.time_zone, "<option selected>Europe/Dublin</option>"),
    "sync settings": (SYNC, SYNC + "settings",
                      {"removal_threshold_percent": "20", "removal_threshold_minimum": "3"},
                      {"removal_threshold_percent": "30", "removal_threshold_minimum": "4"},
                      lambda org, user: settings_for(org.id).removal_threshold_percent,
                      'name="removal_threshold_percent" min="1" max="100" step="1" '
                      'inputmode="numeric" required value="20"'),
    "retention": (SYNC, "/settings/privacy/retention", {"mode": "days", "days": "30"},
                  {"mode": "days", "days": "60"},
                  lambda org, user: retention_for(org.id).erase_leavers_after_days,
                  'value="30"'),
    "notifications": ("/settings/notifications/", "/settings/notifications/",
                      {"events": ["sync_failed"]}, {"events": []},
                      lambda org, user: sorted(enabled_events(user.id)),
                      'value="sync_failed" checked'),
}


def post_from(client, page_html, action, values):
    """What a browser sends: the form's CSRF token and version as drawn, and the values."""
    return client.post(action, data={"csrf_token": csrf_token_from(page_html),
                                     "version": version_for(page_html, action), **values})


@pytest.mark.parametrize("name", FORMS)
def test_a_save_over_settings_changed_since_the_page_opened_is_refused_naming_who_and_when(
        name, app, admin, admin_client, factory):
    page, action, theirs, mine, saved_now, shows_theirs = FORMS[name]
    base = f"/o/{admin.org.id}"
    mine_tab = admin_client.get(base + page).text  # opened first, saved last
    if name == "notifications":  # a person's own choice: their other tab
        other, who = admin_client, "you (in another tab or window)"
    else:
        deputy = factory.user("deputy@school.example", [admin.org], role="admin",
                              name="Deputy Head")
        other, who = app.test_client(), deputy.display_name
        sign_in(other, deputy.email)
    with frozen_at(MOMENT):
        answer = post_from(other, other.get(base + page).text, base + action, theirs)
    assert answer.status_code in (200, 303), answer.text
    before = saved_now(admin.org, admin.user)

    refused = post_from(admin_client, mine_tab, base + action, mine)
    assert refused.status_code == 409
    assert (f"These settings were changed by {who} at 2 Dec 2026, 14:05 GMT since you opened "
            "this page") in refused.text
    assert shows_theirs in refused.text  # the settings as they are now
    db.session.expire_all()
    assert saved_now(admin.org, admin.user) == before  # theirs kept

    again = post_from(admin_client, refused.text, base + action, mine)  # made again, on top
    assert again.status_code in (200, 303), again.text
    db.session.expire_all()
    assert saved_now(admin.org, admin.user) != before


def test_a_refused_htmx_save_answers_the_card_with_who_changed_it(admin, admin_client):
    base = f"/o/{admin.org.id}"
    page = admin_client.get(base + SYNC).text
    save_settings(admin.org.id, False, 20, 3, user=admin.user)  # not the schedule: still free
    card = admin_client.post(base + SYNC + "schedule/", headers={"HX-Request": "true"}, data={
        "csrf_token": csrf_token_from(page), "version": "0", "frequency": "off",
        "time_of_day": "", "time_zone": "Europe/Paris"})
    assert card.status_code == 200 and "Schedule saved" in card.text
    refused = admin_client.post(base + SYNC + "schedule/", headers={"HX-Request": "true"}, data={
        "csrf_token": csrf_token_from(page), "version": "0", "frequency": "off",
        "time_of_day": "", "time_zone": "Europe/Rome"})  # the same page, saved twice
    assert refused.status_code == 200 and "<body" not in refused.text
    assert 'role="alert" id="schedule-changed">These settings were changed by you' in refused.text
    assert "<option selected>Europe/Paris</option>" in refused.text


@pytest.mark.backends("postgresql")
def test_two_saves_at_the_same_moment_cannot_both_win(app, admin):
    """Two tabs drawn from version 1 save at once: the first one's claim holds the row until
    it commits; the second waits for it, then is refused (rather than both reading version 1
    and both writing)."""
    save_settings(admin.org.id, False, 20, 3, user=admin.user)  # version 1
    settings = settings_version(admin.org.id)
    versions.claim(settings, 1, admin.user)  # the first tab's save: its transaction open
    outcome = {}

    def second_tab():
        with app.app_context():
            try:
                save_settings(admin.org.id, True, 50, 9, user=admin.user, expected_version=1)
                outcome["second"] = "saved"
            except versions.ChangedSince as error:
                outcome["second"] = str(error)
            finally:
                db.session.remove()

    thread = threading.Thread(target=second_tab)
    thread.start()
    waiting = 0
    while not waiting and thread.is_alive():  # until the second save waits for the first
        waiting = db.session.execute(text(
            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE NOT l.granted AND a.datname = current_database()")).scalar()
    db.session.commit()  # the first tab's save commits
    thread.join(timeout=30)
    assert waiting, "the second save did not wait for the first"
    assert outcome["second"].startswith("These settings were changed by you")
    db.session.expire_all()
    assert settings_for(admin.org.id).removal_threshold_percent == 20  # the second wrote nothing
    assert versions.current(settings) == 2
