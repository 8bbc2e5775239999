"""Microsoft misbehaving during real syncs against the simulator (the engine in-process).

Transient faults are absorbed: the run completes. Faults that make a complete fetch impossible
fail the run with a plain reason and change nobody. Either way the next run completes.
"""
import pytest

from tests.faults.helpers import (LEAVER, assert_next_run_completes, assert_nobody_duplicated,
                                  assert_unharmed, status_panel, suspended_ids)
from tests.microsoft_flow import connect_organisation, demo
from tests.sync_helpers import sync_in_process
from webapp.user_sync import models as m

pytestmark = pytest.mark.backends("postgresql")  # production's database; the engine is shared


TRANSIENT = {
    "429 storm, fractional Retry-After": dict(throttle_count=6, retry_after="0.35"),
    "503 burst": dict(error_status=503, error_count=4),
    "504 burst": dict(error_status=504, error_count=4),
    "connection dropped mid-page": dict(drop_connection_count=3),
    "latency spikes": dict(latency_ms=150, jitter_ms=450),
}


@pytest.mark.parametrize("faults", TRANSIENT.values(), ids=TRANSIENT.keys())
def test_transient_faults_are_absorbed_and_the_run_completes(school, microsoft, faults):
    microsoft.control.set_faults(**faults)
    run = sync_in_process(school)
    counters = microsoft.control.stats()["counters"]
    assert run.status == m.COMPLETE, run.reason
    assert "Sync complete" in status_panel(school, run.id)
    assert suspended_ids(school) == {LEAVER}  # the real leaver, nobody else
    if "throttle_count" in faults:
        assert counters["faults_throttled"] == faults["throttle_count"]
    microsoft.control.clear_faults()
    assert_next_run_completes(school)


def test_a_refresh_token_revoked_mid_sync_fails_asks_to_reconnect_and_changes_nobody(
        school, microsoft, client):
    # The cached access token reads the first page; then it dies (expiry or continuous access
    # evaluation: Graph says 401) and the refresh token it would be renewed with is revoked.
    microsoft.control.revoke_refresh_tokens(demo.ADMIN_UPN)
    microsoft.control.set_faults(fail_on_page=2, fail_status=401, fail_count=5)
    run = sync_in_process(school)
    assert run.status == m.FAILED and run.fetched > 0  # past the first page
    panel = status_panel(school, run.id)
    assert "Sync failed" in panel and "Reconnect to Microsoft" in panel
    assert "Nothing was changed" in panel
    assert_unharmed(school)
    microsoft.control.clear_faults()
    assert connect_organisation(client, school.org, microsoft).status_code == 302  # reconnect
    assert_next_run_completes(school)


def test_the_group_deleted_mid_sync_fails_says_so_and_changes_nobody(school, microsoft):
    microsoft.control.set_faults(delete_group_id=demo.GENERATED_STAFF_GROUP_ID,
                                 delete_group_after_page=1)
    run = sync_in_process(school)
    assert run.status == m.FAILED and run.fetched > 0  # past the first page
    assert microsoft.control.stats()["counters"]["faults_deleted_groups"] == 1
    panel = status_panel(school, run.id)
    assert "Sync failed" in panel and "no longer exists" in panel
    assert_unharmed(school)
    # Restored with the same ids, the leaver still gone.
    microsoft.control.reset(users=2500)
    microsoft.control.remove_member("f1000000-0000-4000-8000-000000000001", LEAVER)
    assert_next_run_completes(school)


def test_a_throttled_count_for_the_progress_bar_leaves_the_listing_its_whole_wait_budget(
        app, school, microsoft):
    # The count (the progress bar's total) is throttled first, with a long Retry-After; the
    # member list is throttled later. Once the count's wait came out of the list's budget
    # (GRAPH_MAX_TOTAL_WAIT_SECONDS) and the sync failed; the count is only a label.
    app.config["GRAPH_MAX_TOTAL_WAIT_SECONDS"] = 2.4
    microsoft.control.set_faults(throttle_count=1, retry_after="2", fail_on_page=2,
                                 fail_status=429, fail_count=4)  # about 0.8 s of back-off
    microsoft.control.clear_request_log()
    run = sync_in_process(school)
    assert run.status == m.COMPLETE, run.reason
    counters = microsoft.control.stats()["counters"]
    assert counters["faults_throttled"] == 1 and counters["faults_page"] == 4
    throttled = [r for r in microsoft.control.request_log() if r["status"] == 429]
    assert throttled[0]["query"].get("$count") == "true"  # the count's request, asked once
    assert suspended_ids(school) == {LEAVER}  # the real leaver, nobody else
    assert_nobody_duplicated(school)
