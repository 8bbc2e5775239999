"""Fault injection and the control API's directory mutations."""
import time

import pytest
import requests

from microsoft_simulator import demo

NORTH = demo.NORTHFIELD_STAFF_GROUP_ID


# A cast on a transitive member list needs the advanced-query parameters.
ADVANCED = {"params": {"$count": "true"}, "headers": {"ConsistencyLevel": "eventual"}}


def get(graph, path, **kwargs):
    return graph.get(graph.base + path, **kwargs)


def test_throttling_429_with_fractional_retry_after(sim, graph):
    sim.control.set_faults(throttle_count=2, retry_after="2.128")
    for _ in range(2):
        response = get(graph, "/me")
        assert response.status_code == 429 and response.headers["Retry-After"] == "2.128"
        error = response.json()["error"]
        assert error["code"] == "TooManyRequests" and error["innerError"]["status"] == "429"
    assert get(graph, "/me").status_code == 200
    assert sim.control.stats()["counters"]["faults_throttled"] == 2


@pytest.mark.parametrize("status,code", [(503, "serviceNotAvailable"), (504, "timeout")])
def test_error_bursts(sim, graph, status, code):
    sim.control.set_faults(error_status=status, error_count=3)
    statuses = [get(graph, "/me") for _ in range(4)]
    assert [r.status_code for r in statuses] == [status] * 3 + [200]
    assert statuses[0].json()["error"]["code"] == code


def test_dropped_connection_mid_response(sim, graph):
    sim.control.set_faults(drop_connection_count=1)
    with pytest.raises((requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        get(graph, f"/groups/{NORTH}/members")
    assert get(graph, f"/groups/{NORTH}/members").status_code == 200


def test_failure_on_page_n(sim, graph):
    sim.control.set_faults(fail_on_page=2, fail_status=500)
    first = get(graph, "/groups").json()
    failed = graph.get(first["@odata.nextLink"])
    assert failed.status_code == 500 and failed.json()["error"]["code"] == "generalException"
    retried = graph.get(first["@odata.nextLink"])  # fail_count=1: the retry succeeds
    assert retried.status_code == 200 and len(retried.json()["value"]) == 56


def test_a_group_deleted_after_page_n_answers_404_on_its_next_page(sim, graph):
    sim.control.set_faults(delete_group_id=NORTH, delete_group_after_page=1)
    path = f"/groups/{NORTH}/transitiveMembers"
    first = get(graph, path, params={"$top": "10"})
    assert first.status_code == 200 and len(first.json()["value"]) == 10
    following = graph.get(first.json()["@odata.nextLink"])
    assert following.status_code == 404
    assert following.json()["error"]["code"] == "Request_ResourceNotFound"
    assert get(graph, f"/groups/{NORTH}").status_code == 404
    assert sim.control.stats()["counters"]["faults_deleted_groups"] == 1
    assert sim.control.faults()["delete_group_id"] is None  # once


def test_latency_and_jitter(sim, graph):
    sim.control.set_faults(latency_ms=300, jitter_ms=50)
    started = time.perf_counter()
    get(graph, "/me")
    assert 0.3 <= time.perf_counter() - started < 2
    sim.control.clear_faults()
    started = time.perf_counter()
    get(graph, "/me")
    assert time.perf_counter() - started < 0.3


def test_token_endpoint_faults_only_when_asked(sim, browser):
    import msal
    from sim_helpers import APP_SCOPES, REDIRECT_URI, msal_app
    app = msal_app(sim)
    flow = app.initiate_auth_code_flow(APP_SCOPES, redirect_uri=REDIRECT_URI)
    browser.open(flow["auth_uri"])
    browser.sign_in(demo.ADMIN_UPN)
    auth_response = browser.click("Accept")
    sim.control.set_faults(error_status=503, error_count=1)
    assert get_me_status(sim) == 503  # Graph-only by default: the token endpoint is unaffected
    sim.control.set_faults(error_status=503, error_count=1, include_token_endpoint=True)
    with pytest.raises(msal.exceptions.MsalServiceError):
        app.acquire_token_by_auth_code_flow(flow, auth_response)
    # MSAL remembers a 5xx per app instance and short-circuits retries, so retry with a new one.
    assert "access_token" in msal_app(sim).acquire_token_by_auth_code_flow(flow, auth_response)


def test_a_throttled_refresh_is_invalid_grant_aadsts50196_as_entra_answers_it(sim, browser):
    """MSAL's "Client and server throttling": user-facing token requests are throttled with
    invalid_grant AADSTS50196, not a 429."""
    from sim_helpers import APP_SCOPES, REDIRECT_URI, msal_app
    app = msal_app(sim)
    flow = app.initiate_auth_code_flow(APP_SCOPES, redirect_uri=REDIRECT_URI)
    browser.open(flow["auth_uri"])
    browser.sign_in(demo.ADMIN_UPN)
    assert "access_token" in app.acquire_token_by_auth_code_flow(flow, browser.click("Accept"))
    sim.control.set_faults(throttle_count=1, include_token_endpoint=True)
    refused = app.acquire_token_silent_with_error(APP_SCOPES, app.get_accounts()[0],
                                                  force_refresh=True)
    assert (refused["error"], refused["error_codes"]) == ("invalid_grant", [50196])
    assert refused["error_description"].startswith("AADSTS50196: The server terminated")
    # MSAL remembers an invalid_grant per app instance, so the retry uses a new one.
    again = msal_app(sim, app.token_cache)
    assert "access_token" in again.acquire_token_silent_with_error(
        APP_SCOPES, again.get_accounts()[0], force_refresh=True)


def get_me_status(sim):
    return requests.get(sim.env["MICROSOFT_GRAPH_URL"] + "/me").status_code


def test_delete_group_then_404(sim, graph):
    sim.control.delete_group(demo.NORTHFIELD_TA_GROUP_ID)
    assert get(graph, f"/groups/{demo.NORTHFIELD_TA_GROUP_ID}").status_code == 404
    body = get(graph, f"/groups/{NORTH}/transitiveMembers/microsoft.graph.user", **ADVANCED).json()
    assert len(body["value"]) == 25


def test_add_and_remove_members_update_transitive_lists(sim, graph):
    path = f"/groups/{NORTH}/transitiveMembers?$top=999"  # a plain read sees changes at once
    assert sim.control.add_member(demo.NORTHFIELD_TA_GROUP_ID, demo.PERSONAL_ID) is True
    assert demo.PERSONAL_ID in [u["id"] for u in get(graph, path).json()["value"]]
    assert sim.control.remove_member(demo.NORTHFIELD_TA_GROUP_ID, demo.PERSONAL_ID) is True
    assert demo.PERSONAL_ID not in [u["id"] for u in get(graph, path).json()["value"]]


def test_disable_rename_and_create_users(sim, graph):
    sim.control.update_user(demo.PERSONAL_ID, accountEnabled=False, displayName="Jo Renamed", mail=None)
    user = get(graph, f"/users/{demo.PERSONAL_ID}", params={"$select": "displayName,accountEnabled,mail"}).json()
    assert (user["displayName"], user["accountEnabled"], user["mail"]) == ("Jo Renamed", False, None)
    new_id = sim.control.create_user(userPrincipalName="new.starter@oaklearning.example", displayName="New Starter",
                                     password="pw-123")
    sim.control.add_member(NORTH, new_id)
    assert get(graph, "/users/new.starter@oaklearning.example").json()["id"] == new_id


def test_request_log_records_queries_and_headers(sim, graph):
    sim.control.clear_request_log()
    get(graph, f"/groups/{NORTH}/transitiveMembers/microsoft.graph.user",
        params={"$select": "id,mail", "$top": "999", "$count": "true"}, headers={"ConsistencyLevel": "eventual"})
    entry = sim.control.request_log()[-1]
    assert entry["query"] == {"$select": "id,mail", "$top": "999", "$count": "true"}
    assert entry["headers"]["ConsistencyLevel"] == "eventual" and entry["status"] == 200
    assert entry["route"] == f"/v1.0/groups/{NORTH}/transitiveMembers/microsoft.graph.user"


def test_concurrent_clients(sim, graph):
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda _: get(graph, "/groups").status_code, range(24)))
    assert statuses == [200] * 24


def test_throttle_without_retry_after(sim, graph):
    sim.control.set_faults(throttle_count=1, retry_after=None)
    response = get(graph, "/me")
    assert response.status_code == 429 and "Retry-After" not in response.headers


def test_membership_changes_while_paging_never_show_an_empty_list(sim, graph):
    import threading
    stop, sizes = threading.Event(), []

    def churn():
        while not stop.is_set():
            sim.control.add_member(demo.NORTHFIELD_TA_GROUP_ID, demo.PERSONAL_ID)
            sim.control.remove_member(demo.NORTHFIELD_TA_GROUP_ID, demo.PERSONAL_ID)
    worker = threading.Thread(target=churn)
    worker.start()
    try:
        for _ in range(30):
            sizes.append(len(get(graph, f"/groups/{NORTH}/transitiveMembers/microsoft.graph.user",
                                  **ADVANCED).json()["value"]))
    finally:
        stop.set()
        worker.join()
    assert set(sizes) <= {31, 32}
