"""Troubleshooting: local checks at once, Microsoft checks from a job, each with its fix."""
import re
from datetime import timedelta

import pytest

from harness.factory import csrf_token_from, sign_in
from tests.faults.helpers import wait_for
from tests.microsoft_flow import connect_organisation, demo, run_quick_jobs
from webapp.clock import utcnow
from webapp.microsoft.connect import FLOW_TTL_SECONDS
from webapp.microsoft.selection import choose_group, save_selection
from webapp.microsoft.models import connection_for_organisation
from webapp.microsoft.services import graph_client_for, record_attempt_start

pytestmark = pytest.mark.usefixtures("microsoft")  # every page here may ask the simulator


def page_url(org):
    return f"/o/{org.id}/settings/user-sync/troubleshooting/"


def check_status(html, title):
    """The status label shown next to a check's title."""
    match = re.search(r'class="status status-(\w+)">\w+</span> ' + re.escape(title), html)
    assert match, f"no check {title!r}"
    return match.group(1)


def run_remote_checks(app, client, org):
    page = client.get(page_url(org))
    started = client.post(page_url(org) + "microsoft-checks",
                          data={"csrf_token": csrf_token_from(page.text)})
    assert started.status_code == 303
    run_quick_jobs(app)
    return client.get(started.headers["Location"])


def test_before_connecting_local_checks_render_and_say_what_to_do(app, oak, oak_client):
    html = oak_client.get(page_url(oak.north)).text
    assert check_status(html, "Your account exists in every school of the trust") == "pass"
    assert "Northfield Academy: present" in html and "Southfield Primary: present" in html
    assert check_status(html, "You are signed in here as the connected Microsoft account") == "unknown"
    assert check_status(html, "A background worker is running") == "fail"
    assert check_status(html, "The last sync finished") == "unknown"
    assert "no sync has run yet" in html and "Contact support" in html
    assert "These run once Northfield Academy is connected to Microsoft." in html


def test_linked_from_import_settings_and_manage_user_sync(app, oak, oak_client):
    for path in (f"/o/{oak.north.id}/settings/user-sync/import/microsoft",
                 f"/o/{oak.north.id}/settings/user-sync/"):
        assert f'href="{page_url(oak.north)}">Troubleshooting</a>' in oak_client.get(path).text


def test_missing_school_is_named_with_a_link_to_manage_users(app, factory, oak, oak_client):
    factory.organisation("Westfield Infants", "Oak Learning Trust")
    html = oak_client.get(page_url(oak.north)).text
    assert check_status(html, "Your account exists in every school of the trust") == "fail"
    assert "Westfield Infants: missing" in html and ">Manage users</a>" in html


def test_last_attempt_with_another_account_explains_the_remembered_browser_account(app, oak, oak_client, microsoft):
    connect_organisation(oak_client, oak.north, microsoft, account=demo.PERSONAL_UPN)
    html = oak_client.get(page_url(oak.north)).text
    assert check_status(html, "The last Connect with Microsoft returned your account") == "fail"
    assert f"but Microsoft returned {demo.PERSONAL_UPN}" in html
    assert "another browser that is not signed in to Microsoft" in html
    assert "Wrong Microsoft account" in html  # the attempts table


def test_counts_read_as_plain_english(app, factory, oak, oak_client, start_worker):
    html = oak_client.get(page_url(oak.north)).text
    assert f"{oak.admin.email} is a member of both schools." in html and "(s)" not in html
    worker = start_worker()
    wait_for(lambda: "1 worker listening." in oak_client.get(page_url(oak.north)).text,
             timeout=30, what="the worker to register")
    factory.organisation("Westfield Infants", "Oak Learning Trust")
    html = oak_client.get(page_url(oak.north)).text
    assert "is missing from 1 of 3 schools." in html and "(s)" not in html
    worker.terminate()


def test_a_connect_attempt_never_finished_is_in_progress_then_abandoned(app, db, oak, oak_client):
    attempt = record_attempt_start(oak.north, oak.admin)
    html = oak_client.get(page_url(oak.north)).text
    assert "In progress (not finished yet)" in html and "is still in progress" in html
    attempt.started_at = utcnow() - timedelta(seconds=FLOW_TTL_SECONDS + 60)
    db.session.commit()
    html = oak_client.get(page_url(oak.north)).text
    assert "Abandoned (not finished)" in html and "was abandoned before Microsoft sent it back" in html
    assert ">started<" not in html and ": started" not in html


def test_connected_tenant_passes_every_microsoft_check(app, oak, oak_client, microsoft):
    connect_organisation(oak_client, oak.north, microsoft)
    run_quick_jobs(app)
    connection = connection_for_organisation(oak.north)
    choose_group(oak.north, oak.admin, demo.NORTHFIELD_STAFF_GROUP_ID, graph_client_for(connection))
    html = run_remote_checks(app, oak_client, oak.north).text
    for title in ("The saved Microsoft sign-in still refreshes",
                  "The connected Microsoft account is enabled",
                  "Microsoft granted the permissions sync needs",
                  "An administrator has approved rostersync (admin consent)",
                  "The chosen groups still exist and can be synced"):
        assert check_status(html, title) == "pass", title
    assert "All checks with Microsoft finished." in html
    assert check_status(html, "You are signed in here as the connected Microsoft account") == "pass"


def test_revoked_sign_in_and_deleted_group_fail_with_fixes(app, oak, oak_client, microsoft):
    connect_organisation(oak_client, oak.north, microsoft)
    run_quick_jobs(app)
    connection = connection_for_organisation(oak.north)
    choose_group(oak.north, oak.admin, demo.NORTHFIELD_TA_GROUP_ID, graph_client_for(connection))
    microsoft.control.delete_group(demo.NORTHFIELD_TA_GROUP_ID)
    html = run_remote_checks(app, oak_client, oak.north).text
    assert check_status(html, "The chosen groups still exist and can be synced") == "fail"
    assert "no longer exists in Microsoft" in html and ">Choose groups</a>" in html
    assert "Untick it, tick the group that replaced it (if there is one) and press Save groups." \
        in html
    microsoft.control.revoke_refresh_tokens(demo.ADMIN_UPN)
    html = run_remote_checks(app, oak_client, oak.north).text
    assert check_status(html, "The saved Microsoft sign-in still refreshes") == "fail"
    assert check_status(html, "The Microsoft connection is working") == "fail"
    assert "Reconnect needed" in html


def test_a_deleted_excluded_group_says_what_to_do_for_an_excluded_group(app, oak, oak_client,
                                                                       microsoft):
    """Once it said "Choose another group" for a group whose members were never synced."""
    connect_organisation(oak_client, oak.north, microsoft)
    run_quick_jobs(app)
    connection = connection_for_organisation(oak.north)
    save_selection(oak.north, oak.admin, {demo.NORTHFIELD_STAFF_GROUP_ID: "sync",
                                          demo.NORTHFIELD_TA_GROUP_ID: "exclude"},
                   graph_client_for(connection))
    microsoft.control.delete_group(demo.NORTHFIELD_TA_GROUP_ID)
    html = run_remote_checks(app, oak_client, oak.north).text
    assert check_status(html, "The chosen groups still exist and can be synced") == "fail"
    assert ("The chosen group “Northfield Teaching Assistants” no longer exists in Microsoft "
            "(deleted, perhaps), so it can no longer keep its members out of the sync. Syncs stop "
            "rather than sync them.") in html
    assert "Untick it, exclude the group that now holds those people, and press Save groups." \
        in html
    assert "Choose another group" not in html


def test_remote_checks_poll_while_waiting_for_a_worker(app, oak, oak_client, microsoft):
    connect_organisation(oak_client, oak.north, microsoft)
    page = oak_client.get(page_url(oak.north))
    assert 'hx-trigger="load, submit"' in page.text  # starts itself, as a POST
    partial = oak_client.post(page_url(oak.north) + "microsoft-checks",
                              headers={"HX-Request": "true", "X-CSRFToken": csrf_token_from(page.text)})
    assert partial.text.lstrip().startswith('<section id="remote-checks"')
    assert "Waiting for a background worker" in partial.text and 'hx-trigger="load delay:1s"' in partial.text


def test_another_users_check_results_are_not_readable(app, factory, oak, oak_client, client, microsoft):
    connect_organisation(oak_client, oak.north, microsoft)
    page = oak_client.get(page_url(oak.north))
    started = oak_client.post(page_url(oak.north) + "microsoft-checks",
                              data={"csrf_token": csrf_token_from(page.text)})
    other = app.test_client()
    factory.user("other-admin@oaklearning.example", [oak.north], role="admin")
    sign_in(other, "other-admin@oaklearning.example")
    assert other.get(started.headers["Location"]).status_code == 404


def test_worker_check_passes_when_a_worker_is_listening(app, oak, oak_client, start_worker):
    import time
    process = start_worker()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        html = oak_client.get(page_url(oak.north)).text
        if check_status(html, "A background worker is running") == "pass":
            break
        time.sleep(0.3)
    assert check_status(html, "A background worker is running") == "pass"
    assert process.poll() is None


def test_last_sync_outcome_and_error_are_shown(app, db, oak, oak_client):
    from webapp.clock import utcnow
    from webapp.user_sync.models import COMPLETE, FAILED, SyncRun
    db.session.add(SyncRun(organisation_id=oak.north.id, status=COMPLETE, added=25, updated=1,
                           suspended=0, skipped=3, finished_at=utcnow()))
    db.session.commit()
    html = oak_client.get(page_url(oak.north)).text
    assert check_status(html, "The last sync finished") == "pass"
    assert "25 added, 1 updated, 0 suspended, 3 skipped" in html
    db.session.add(SyncRun(organisation_id=oak.north.id, status=FAILED, finished_at=utcnow(),
                           reason="Microsoft kept answering 503 while listing members."))
    db.session.commit()
    html = oak_client.get(page_url(oak.north)).text
    assert check_status(html, "The last sync finished") == "fail"
    assert "Microsoft kept answering 503 while listing members." in html and ">Manage user sync</a>" in html
    south = oak_client.get(page_url(oak.south)).text  # each school its own sync
    assert check_status(south, "The last sync finished") == "unknown"


def test_a_killed_workers_leftover_registration_does_not_count(app, oak, oak_client, start_worker):
    import signal
    import time
    process = start_worker()
    deadline = time.monotonic() + 30
    while check_status(oak_client.get(page_url(oak.north)).text,
                       "A background worker is running") != "pass" and time.monotonic() < deadline:
        time.sleep(0.3)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    html = oak_client.get(page_url(oak.north)).text
    assert check_status(html, "A background worker is running") == "fail"


def test_a_connection_matched_by_its_mailbox_address_passes_and_another_admin_is_told_not_to_fix_it(
        app, factory, client, microsoft):
    """Connect accepts the rostersync address as the account's sign-in name or its mailbox;
    the checks compared the sign-in name only: a working connection failed two checks, and
    another admin of the trust was told to reconnect with their own account."""
    from tests.microsoft_flow import oak_trust
    email = "it.office@northfield.example"
    microsoft.control.create_user(userPrincipalName="sync-svc@oaklearning.example", mail=email,
                                  admin=True)
    oak = oak_trust(factory, admin_email=email)
    sign_in(client, email)
    assert connect_organisation(client, oak.north, microsoft,
                                account="sync-svc@oaklearning.example").status_code == 302
    html = client.get(page_url(oak.north)).text
    assert check_status(html, "You are signed in here as the connected Microsoft account") == "pass"
    assert check_status(html, "The last Connect with Microsoft returned your account") == "pass"
    colleague = factory.user("head@northfield.example", [oak.north, oak.south], role="admin")
    other = app.test_client()
    sign_in(other, colleague.email)
    html = other.get(page_url(oak.north)).text
    assert check_status(html, "You are signed in here as the connected Microsoft account") != "fail"
    assert "That is fine while it works" in html
