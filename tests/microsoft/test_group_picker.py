"""The group picker: snapshot job, server-side search, kinds, and a choice Graph confirms."""
import re

import pytest

from harness.factory import csrf_token_from, version_from
from tests.microsoft_flow import connect_organisation, demo, run_quick_jobs
from tests.statements import statements_sent
from webapp.microsoft.groups import classify
from webapp.microsoft.models import SnapshotGroup, connection_for_organisation
from webapp.microsoft.selection import GroupChoice, group_choices_for


@pytest.fixture
def connected(app, oak_client, oak, microsoft):
    assert connect_organisation(oak_client, oak.north, microsoft).status_code == 302
    return oak_client


def groups_url(org):
    return f"/o/{org.id}/settings/user-sync/import/microsoft/groups"


def save(client, org, group_id):
    page = client.get(groups_url(org))
    return client.post(groups_url(org), data={"csrf_token": csrf_token_from(page.text),
                                              "sync": group_id, "action": "save"},
                       follow_redirects=True)


@pytest.mark.parametrize("group, kind, dynamic", [
    ({"groupTypes": [], "securityEnabled": True, "mailEnabled": False}, "security", False),
    ({"groupTypes": [], "securityEnabled": True, "mailEnabled": True}, "mail_security", False),
    ({"groupTypes": [], "securityEnabled": False, "mailEnabled": True}, "distribution", False),
    ({"groupTypes": ["Unified"], "securityEnabled": False, "mailEnabled": True}, "microsoft365", False),
    ({"groupTypes": ["DynamicMembership"], "securityEnabled": True, "mailEnabled": False}, "security", True),
])
def test_group_kinds_follow_graph_flags(group, kind, dynamic):
    assert classify(group) == (kind, dynamic)


def test_picker_shows_progress_while_the_snapshot_job_is_queued(app, oak, connected):
    page = connected.get(groups_url(oak.north))
    assert "Fetching your groups from Microsoft" in page.text and "hx-trigger=\"load delay:1s\"" in page.text
    partial = connected.get(groups_url(oak.north), headers={"HX-Request": "true"})
    assert partial.text.lstrip().startswith('<section id="group-picker"')


@pytest.mark.both_databases
def test_snapshot_pages_through_every_group_with_top_999_and_a_narrow_select(app, db, oak, connected, microsoft):
    microsoft.control.clear_request_log()
    run_quick_jobs(app)
    requests_made = [r for r in microsoft.control.request_log() if r["route"].endswith("groups")
                     or "/groups?" in r["path"]]
    assert requests_made and all(r["query"].get("$top") == "999" for r in requests_made)
    assert requests_made[0]["query"]["$select"] == "id,displayName,groupTypes,mailEnabled,securityEnabled"
    assert db.session.query(SnapshotGroup).count() == 156
    page = connected.get(groups_url(oak.north))
    assert "All 156 groups" in page.text and "showing 50 on page 1 of 4" in page.text


@pytest.mark.both_databases
def test_search_runs_on_the_server_and_marks_kinds(app, oak, connected):
    run_quick_jobs(app)
    results = connected.get(groups_url(oak.north) + "?part=results&q=oak",
                            headers={"HX-Request": "true"})
    text = results.text
    assert text.lstrip().startswith('<fieldset class="group-list">')
    assert "Oak Mail-enabled Security</label>" in text and "Mail-enabled security" in text
    assert "Oak Trust Everyone</label>" in text and "Microsoft 365 groups are not supported" in text
    assert "dynamic membership" in text
    everyone = text.split("Oak Trust Everyone</label>")[0].rsplit("<input", 1)[1]
    assert "disabled" in everyone  # listed, not choosable
    assert "learn.microsoft.com" in text
    none = connected.get(groups_url(oak.north) + "?part=results&q=zzz-nothing",
                         headers={"HX-Request": "true"})
    assert "No group's name contains" in none.text


def test_saving_a_group_rechecks_it_with_graph_and_records_member_count(app, db, oak, connected):
    run_quick_jobs(app)
    response = save(connected, oak.north, demo.NORTHFIELD_STAFF_GROUP_ID)
    assert "Syncing: Northfield Staff." in response.text
    [choice] = group_choices_for(oak.north)
    assert (choice.group_id, choice.display_name, choice.kind) == (
        demo.NORTHFIELD_STAFF_GROUP_ID, "Northfield Staff", "security")
    row = db.session.query(SnapshotGroup).filter_by(group_id=demo.NORTHFIELD_STAFF_GROUP_ID).one()
    assert row.member_count == 31
    page = connected.get(groups_url(oak.north) + "?q=northfield+staff")
    assert "31 members" in page.text and "checked" in page.text


def test_after_save_group_import_settings_offers_sync_now_which_starts_the_sync(app, db, oak,
                                                                              connected):
    from webapp.user_sync.models import SyncRun
    run_quick_jobs(app)
    landed = save(connected, oak.north, demo.NORTHFIELD_STAFF_GROUP_ID)
    assert landed.request.path.endswith("/import/microsoft")
    sync_url = f"/o/{oak.north.id}/settings/user-sync/sync"
    form = landed.text.split(f'action="{sync_url}"', 1)[1].split("</form>", 1)[0]
    assert ">Sync now</button>" in form
    assert f'href="/o/{oak.north.id}/settings/user-sync/"' in landed.text  # Manage user sync
    started = connected.post(sync_url, data={"csrf_token": csrf_token_from(landed.text)})
    assert started.status_code == 303 and started.location.startswith(
        f"/o/{oak.north.id}/settings/user-sync/")
    assert db.session.query(SyncRun).filter_by(organisation_id=oak.north.id).count() == 1


def ticked(html, name="sync"):
    return re.findall(rf'<input type="checkbox" name="{name}"[^>]*value="([^"]+)"[^>]*\bchecked\b',
                      html)


def chosen_part(html):
    """The "Chosen groups" fieldset, listed above the search results."""
    return html.split('id="chosen-groups"', 1)[1].split("</fieldset>", 1)[0]


def test_the_picker_opens_with_the_current_group_selected(app, oak, connected):
    run_quick_jobs(app)
    first_fifty = connected.get(groups_url(oak.north)).text
    assert f'value="{demo.NORTHFIELD_STAFF_GROUP_ID}"' not in first_fifty  # past the first 50 A-Z
    save(connected, oak.north, demo.NORTHFIELD_STAFF_GROUP_ID)
    page = connected.get(groups_url(oak.north)).text
    assert ticked(page) == [demo.NORTHFIELD_STAFF_GROUP_ID]
    assert f'value="{demo.NORTHFIELD_STAFF_GROUP_ID}"' in chosen_part(page)
    assert page.count('type="checkbox" name="sync"') == 51 and "All 155 other groups" in page
    narrowed = connected.get(groups_url(oak.north) + "?q=staff").text
    assert ticked(narrowed) == [demo.NORTHFIELD_STAFF_GROUP_ID]
    other = connected.post(groups_url(oak.north), headers={"HX-Request": "true"}, data={
        "csrf_token": csrf_token_from(page), "q": "everyone", "action": "search",
        "part": "choices", "sync": demo.NORTHFIELD_STAFF_GROUP_ID}).text
    assert ticked(other) == [demo.NORTHFIELD_STAFF_GROUP_ID]  # kept while searching
    assert f'value="{demo.NORTHFIELD_STAFF_GROUP_ID}"' not in other.split("</fieldset>", 1)[1]



def test_a_tick_reads_the_saved_choices_and_the_snapshot_once(app, oak, connected):
    """Every tick of a box posts the whole form (HTMX), so what a tick costs is pinned: the
    picker once read the saved choices and the snapshot's row two or three times a request."""
    run_quick_jobs(app)
    save(connected, oak.north, demo.NORTHFIELD_STAFF_GROUP_ID)
    url = groups_url(oak.north)  # oak.north is re-read after the save: not while counting
    page = connected.get(url).text
    with statements_sent() as sent:
        response = connected.post(url, headers={"HX-Request": "true"}, data={
            "csrf_token": csrf_token_from(page), "version": version_from(page),
            "action": "tick", "part": "choices", "sync": demo.NORTHFIELD_STAFF_GROUP_ID,
            "exclude": demo.NORTHFIELD_TA_GROUP_ID, "shown_q": "", "shown_page": "1"})
    assert ticked(chosen_part(response.text), "exclude") == [demo.NORTHFIELD_TA_GROUP_ID]
    assert [reading(sent, "microsoft_group_choices"),
            reading(sent, "microsoft_group_snapshots")] == [1, 1], "\n\n".join(sent)
    # 1-6 the account session, the user, whether they are still a member of any school, the
    #     school, their membership of it, the two-step policy of the schools they administer;
    # 7 the Microsoft connection; 8 the saved choices; 9 the snapshot's row; 10-11 the search
    # (count and one page); 12 the snapshot's size; 13 the ticked groups' names and kinds.
    # Neither the reconnect banner nor the header's schools: a partial shows neither.
    assert len(sent) == 13, "\n\n".join(sent)


def reading(sent, table):
    return sum(bool(re.search(rf"\bFROM {table}\b", statement)) for statement in sent)

def test_import_settings_offers_no_sync_now_before_a_group_is_chosen(app, oak, connected):
    page = connected.get(f"/o/{oak.north.id}/settings/user-sync/import/microsoft")
    assert "Choose the groups to sync" in page.text and ">Sync now</button>" not in page.text


@pytest.mark.parametrize("forged", [demo.EVERYONE_GROUP_ID, "b0000000-0000-4000-8000-00000000dead",
                                    "../users", "", "x" * 100])
def test_forged_group_choices_are_refused(app, db, oak, connected, forged):
    run_quick_jobs(app)
    response = save(connected, oak.north, forged)
    assert response.status_code == 422
    assert "saved its groups" not in response.text
    assert 'id="selection-error" class="field-error" role="alert"' in response.text
    assert db.session.query(GroupChoice).count() == 0


def test_each_school_in_the_trust_keeps_its_own_choice(app, oak, connected):
    run_quick_jobs(app)
    save(connected, oak.north, demo.NORTHFIELD_STAFF_GROUP_ID)
    save(connected, oak.south, demo.SOUTHFIELD_STAFF_GROUP_ID)
    assert [c.display_name for c in group_choices_for(oak.north)] == ["Northfield Staff"]
    assert [c.kind for c in group_choices_for(oak.south)] == ["distribution"]
    south = connected.get(f"/o/{oak.south.id}/settings/user-sync/import/microsoft")
    assert "Syncing: Southfield Staff." in south.text


def test_refresh_groups_failure_is_shown_not_hidden(app, db, oak, connected, microsoft):
    microsoft.control.set_faults(error_status=503, error_count=50)  # Microsoft keeps failing
    from webapp.microsoft import groups
    from webapp.microsoft.services import graph_client_for
    connection = connection_for_organisation(oak.north)
    client = graph_client_for(connection, max_attempts=2, base_backoff=0.01)
    assert groups.take_snapshot(connection.id, client) is False
    page = connected.get(groups_url(oak.north))
    assert "We could not fetch your groups" in page.text
    assert "Microsoft did not give us the list of groups" in page.text and "Troubleshooting" in page.text


def test_snapshot_runs_in_a_real_worker_process(app, db, oak, connected, start_worker):
    start_worker(burst=True).wait(timeout=60)
    db.session.expire_all()
    assert db.session.query(SnapshotGroup).count() == 156
    assert "All 156 groups" in connected.get(groups_url(oak.north)).text


def test_refresh_groups_queues_one_snapshot_and_shows_progress(app, db, oak, connected):
    from rq import Queue
    from webapp.redis_conn import get_queue
    run_quick_jobs(app)
    page = connected.get(groups_url(oak.north))
    token = csrf_token_from(page.text)
    for _ in range(2):  # a second press while one runs does not queue another
        response = connected.post(groups_url(oak.north) + "/refresh", data={"csrf_token": token})
        assert response.status_code == 302
    queue: Queue = get_queue("quick")
    assert queue.count == 1
    assert "Fetching your groups from Microsoft" in connected.get(groups_url(oak.north)).text
    run_quick_jobs(app)
    assert "All 156 groups" in connected.get(groups_url(oak.north)).text


def test_tokens_no_key_can_read_fail_the_snapshot_and_the_save_says_so_not_an_error_page(
        app, db, oak, connected):
    """The stored tokens cannot be decrypted (TOKEN_ENCRYPTION_KEY rotated wrongly): the group
    snapshot job died, leaving it "running" for fifteen minutes, and saving a group (which asks
    Microsoft to confirm it) answered with the error page."""
    from webapp.microsoft import groups
    from webapp.microsoft.services import graph_client_for
    run_quick_jobs(app)
    connection = connection_for_organisation(oak.north)
    connection.token_cache_encrypted = b"not readable with any configured key"
    db.session.commit()
    assert groups.take_snapshot(connection.id, graph_client_for(connection)) is False
    page = connected.get(groups_url(oak.north))
    assert "The last refresh failed (The stored Microsoft tokens cannot be decrypted" in page.text
    assert "Reconnect to Microsoft in Import settings" in page.text
    saved = save(connected, oak.north, demo.NORTHFIELD_STAFF_GROUP_ID)
    assert saved.status_code == 422
    assert "nothing was saved" in saved.text and "Reconnect in Import settings" in saved.text
    assert group_choices_for(oak.north) == []
