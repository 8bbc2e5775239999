"""Graph v1.0 over TLS with plain requests: auth errors, reads, query options, paging, demo data."""
import time

import requests

from sim_helpers import Browser, sign_in_with_msal
from microsoft_simulator import demo
from microsoft_simulator.tokens import Signer

EVENTUAL = {"ConsistencyLevel": "eventual"}
SYNC_SELECT = "id,displayName,mail,userPrincipalName,jobTitle,department,accountEnabled,userType"


def get(graph, path, **kwargs):
    return graph.get(graph.base + path, **kwargs)


def _assert_graph_error(response, status, code):
    body = response.json()
    assert response.status_code == status, body
    assert body["error"]["code"] == code
    assert {"date", "request-id", "client-request-id"} <= set(body["error"]["innerError"])
    return body["error"]["message"]


def test_401_for_missing_garbage_expired_and_foreign_tokens(sim, graph):
    url = f"{graph.base}/me"
    message = _assert_graph_error(requests.get(url), 401, "InvalidAuthenticationToken")
    assert message == "Access token is empty."
    _assert_graph_error(requests.get(url, headers={"Authorization": "Bearer abc"}), 401, "InvalidAuthenticationToken")
    from cryptography.hazmat.primitives.asymmetric import rsa
    foreign = Signer(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    token = foreign.sign({"aud": "00000003-0000-0000-c000-000000000000", "exp": time.time() + 600, "scp": "User.Read"})
    response = requests.get(url, headers={"Authorization": f"Bearer {token}"})
    _assert_graph_error(response, 401, "InvalidAuthenticationToken")
    assert "WWW-Authenticate" in response.headers


def test_expired_token_is_401(sim, browser):
    sim.control.set_tenant(token_lifetime=1)
    _, result = sign_in_with_msal(sim, browser)
    time.sleep(2.1)
    response = requests.get(f"{sim.env['MICROSOFT_GRAPH_URL']}/me",
                            headers={"Authorization": f"Bearer {result['access_token']}"})
    assert "expired" in _assert_graph_error(response, 401, "InvalidAuthenticationToken")


def test_403_without_scope_and_404_for_unknown_ids(sim, graph):
    _, result = sign_in_with_msal(sim, Browser(sim), account=demo.PERSONAL_UPN, scopes=["User.Read"])
    headers = {"Authorization": f"Bearer {result['access_token']}"}
    assert requests.get(f"{graph.base}/me", headers=headers).status_code == 200
    response = requests.get(f"{graph.base}/groups", headers=headers)
    _assert_graph_error(response, 403, "Authorization_RequestDenied")
    missing = "00000000-0000-0000-0000-00000000dead"
    _assert_graph_error(get(graph, f"/groups/{missing}"), 404, "Request_ResourceNotFound")
    _assert_graph_error(get(graph, f"/groups/{missing}/members"), 404, "Request_ResourceNotFound")
    _assert_graph_error(get(graph, f"/users/{missing}"), 404, "Request_ResourceNotFound")


def test_me_and_user_reads_with_select(graph):
    me = get(graph, "/me").json()
    assert me["@odata.context"].endswith("$metadata#users/$entity")
    assert me["id"] == demo.ADMIN_ID and me["userPrincipalName"] == demo.ADMIN_UPN
    assert "accountEnabled" not in me  # not a default property
    user = get(graph, f"/users/{demo.DISABLED_ID}", params={"$select": "id,accountEnabled"}).json()
    assert user["accountEnabled"] is False and set(user) == {"@odata.context", "id", "accountEnabled"}
    by_upn = get(graph, "/users/" + demo.GUEST_UPN.replace("#", "%23"), params={"$select": "id,userType"}).json()
    assert by_upn == {**by_upn, "id": demo.GUEST_ID, "userType": "Guest"}
    assert get(graph, "/me", params={"$select": "nope"}).status_code == 400


def test_top_bounds(graph):
    for bad in ("0", "1000", "-1", "abc"):
        message = _assert_graph_error(get(graph, "/groups", params={"$top": bad}), 400, "Request_BadRequest")
        assert "Must be between 1 and 999" in message
    assert len(get(graph, "/groups", params={"$top": "999"}).json()["value"]) > 150


def test_group_listing_pages_by_100_with_opaque_skiptoken(graph):
    first = get(graph, "/groups").json()
    assert len(first["value"]) == 100 and first["@odata.context"].endswith("$metadata#groups")
    assert "$skiptoken=" in first["@odata.nextLink"] and "@odata.count" not in first
    second = graph.get(first["@odata.nextLink"]).json()
    assert len(second["value"]) == 56 and "@odata.nextLink" not in second
    names = [g["displayName"] for g in first["value"] + second["value"]]
    assert len(set(g["id"] for g in first["value"] + second["value"])) == 156 and "Northfield Staff" in names


def test_group_kinds(graph):
    kinds = {g["id"]: (g["groupTypes"], g["mailEnabled"], g["securityEnabled"])
             for g in get(graph, "/groups", params={"$top": "999"}).json()["value"]}
    assert kinds[demo.NORTHFIELD_STAFF_GROUP_ID] == ([], False, True)
    assert kinds[demo.SOUTHFIELD_STAFF_GROUP_ID] == ([], True, False)
    assert kinds[demo.MAIL_SECURITY_GROUP_ID] == ([], True, True)
    assert kinds[demo.EVERYONE_GROUP_ID] == (["Unified"], True, False)
    assert kinds[demo.DYNAMIC_GROUP_ID] == (["DynamicMembership"], False, True)


def test_filters_on_groups(graph):
    def names(flt):
        body = get(graph, "/groups", params={"$filter": flt, "$top": "999"}).json()
        assert "value" in body, body
        return {g["displayName"] for g in body["value"]}
    assert "Oak Trust Everyone" in names("groupTypes/any(c:c eq 'Unified')")
    assert all(n != "Southfield Staff" for n in names("securityEnabled eq true"))
    assert "Southfield Staff" in names("mailEnabled eq true and securityEnabled eq false")
    assert names("startswith(displayName,'Northfield Staff')") == {"Northfield Staff"}


def test_advanced_query_rules(graph):
    search = {"$search": '"displayName:Northfield"'}
    message = _assert_graph_error(get(graph, "/groups", params=search), 400, "Request_UnsupportedQuery")
    assert "ConsistencyLevel: eventual" in message
    found = get(graph, "/groups", params={**search, "$count": "true"}, headers=EVENTUAL).json()
    assert found["@odata.count"] == len(found["value"]) > 1
    ne = {"$filter": "mailEnabled ne true"}
    _assert_graph_error(get(graph, "/groups", params=ne), 400, "Request_UnsupportedQuery")
    _assert_graph_error(get(graph, "/groups", params=ne, headers=EVENTUAL), 400, "Request_UnsupportedQuery")
    assert get(graph, "/groups", params={**ne, "$count": "true"}, headers=EVENTUAL).status_code == 200
    ignored = get(graph, "/groups", params={"$count": "true"}).json()
    assert "@odata.count" not in ignored  # $count without the header is silently ignored
    ordered = {"$orderby": "displayName", "$filter": "securityEnabled eq true"}
    _assert_graph_error(get(graph, "/groups", params=ordered), 400, "Request_UnsupportedQuery")
    names = [g["displayName"] for g in get(graph, "/groups", params={"$orderby": "displayName", "$top": "999"}).json()["value"]]
    assert names == sorted(names, key=str.lower)


def test_members_have_every_object_type(graph):
    body = get(graph, f"/groups/{demo.NORTHFIELD_STAFF_GROUP_ID}/members").json()
    assert body["@odata.context"].endswith("$metadata#directoryObjects")
    types = {m["@odata.type"] for m in body["value"]}
    assert types == {"#microsoft.graph.user", "#microsoft.graph.group", "#microsoft.graph.device",
                     "#microsoft.graph.orgContact", "#microsoft.graph.servicePrincipal"}
    assert len(body["value"]) == 25 + 4


def test_transitive_members_and_user_cast(graph):
    path = f"/groups/{demo.NORTHFIELD_STAFF_GROUP_ID}/transitiveMembers"
    everything = get(graph, path).json()["value"]
    assert len(everything) == 25 + 6 + 4
    users = get(graph, path + "/microsoft.graph.user", params={"$select": SYNC_SELECT, "$count": "true"},
                headers=EVENTUAL).json()
    assert users["@odata.count"] == 31 and users["@odata.context"].endswith(f"$metadata#users({SYNC_SELECT})")
    by_id = {u["id"]: u for u in users["value"]}
    assert by_id[demo.GUEST_ID]["userType"] == "Guest" and "#EXT#" in by_id[demo.GUEST_ID]["userPrincipalName"]
    assert by_id[demo.DISABLED_ID]["accountEnabled"] is False
    assert by_id[demo.NO_MAILBOX_ID]["mail"] is None
    assert [by_id[i]["mail"] for i in demo.DUPLICATE_MAIL_IDS] == [demo.DUPLICATE_MAIL] * 2
    assert by_id[demo.MARKUP_ID]["displayName"] == "<b>Ms</b> Script"
    assert by_id[demo.OBRIEN_ID]["displayName"] == "Siobhán O'Brien"
    assert any(u["jobTitle"] is None for u in users["value"])
    groups = get(graph, path + "/microsoft.graph.group", params={"$count": "true"},
                 headers=EVENTUAL).json()["value"]
    assert [g["id"] for g in groups] == [demo.NORTHFIELD_TA_GROUP_ID]
    _assert_graph_error(get(graph, path + "/microsoft.graph.nonsense"), 400, "BadRequest")
    # "List group transitive members": an OData cast needs ConsistencyLevel: eventual and $count.
    _assert_graph_error(get(graph, path + "/microsoft.graph.user"), 400, "Request_UnsupportedQuery")
    _assert_graph_error(get(graph, path + "/microsoft.graph.user", headers=EVENTUAL), 400,
                        "Request_UnsupportedQuery")


def test_member_list_filter_needs_advanced_query(graph):
    path = f"/groups/{demo.SOUTHFIELD_STAFF_GROUP_ID}/members"
    params = {"$filter": "startswith(displayName,'Jo')"}
    _assert_graph_error(get(graph, path, params=params), 400, "Request_UnsupportedQuery")
    found = get(graph, path, params={**params, "$count": "true"}, headers=EVENTUAL).json()
    assert [m["id"] for m in found["value"]] == [demo.PERSONAL_ID]


def test_member_paging_with_small_top(graph):
    url = f"{graph.base}/groups/{demo.SOUTHFIELD_STAFF_GROUP_ID}/transitiveMembers/microsoft.graph.user?$top=7&$count=true"
    seen, pages = [], 0
    while url:
        body = graph.get(url, headers=EVENTUAL).json()
        seen += [u["id"] for u in body["value"]]
        url, pages = body.get("@odata.nextLink"), pages + 1
    assert pages == 3 and len(seen) == len(set(seen)) == 20


def test_the_short_cast_alias_the_sdks_send_is_accepted(graph):
    short = graph.get(f"{graph.base}/groups/{demo.SOUTHFIELD_STAFF_GROUP_ID}/transitiveMembers/graph.user",
                      params={"$count": "true"}, headers=EVENTUAL)
    assert short.status_code == 200 and len(short.json()["value"]) == 20
    assert graph.get(f"{graph.base}/groups/{demo.SOUTHFIELD_STAFF_GROUP_ID}/members/graph.pizza").status_code == 400


def test_response_headers(graph):
    response = get(graph, "/me", headers={"client-request-id": "abc-123"})
    assert response.headers["client-request-id"] == "abc-123" and response.headers["request-id"]
    assert response.headers["Content-Type"].startswith("application/json;odata.metadata=minimal")


def test_organization_is_a_collection_of_one_and_user_read_sees_only_three_properties(sim):
    """learn.microsoft.com organization-list: User.Read reads id, displayName and verifiedDomains;
    every other property comes back null."""
    _, result = sign_in_with_msal(sim, Browser(sim), account=demo.PERSONAL_UPN, scopes=["User.Read"])
    headers = {"Authorization": f"Bearer {result['access_token']}"}
    body = requests.get(f"{sim.env['MICROSOFT_GRAPH_URL']}/organization", headers=headers).json()
    assert body["@odata.context"].endswith("/v1.0/$metadata#organization")
    [organization] = body["value"]
    assert (organization["id"], organization["displayName"]) == (demo.TENANT_ID, demo.TENANT_NAME)
    assert organization["verifiedDomains"][0]["name"] == demo.TENANT_DOMAIN
    assert organization["city"] is None and organization["technicalNotificationMails"] is None
    selected = requests.get(f"{sim.env['MICROSOFT_GRAPH_URL']}/organization", headers=headers,
                            params={"$select": "id,displayName"}).json()
    assert selected["value"] == [{"id": demo.TENANT_ID, "displayName": demo.TENANT_NAME}]
    assert selected["@odata.context"].endswith("#organization(id,displayName)")
    refused = requests.get(f"{sim.env['MICROSOFT_GRAPH_URL']}/organization", headers=headers,
                           params={"$select": "nonsense"})
    assert refused.status_code == 400
    assert requests.get(f"{sim.env['MICROSOFT_GRAPH_URL']}/organization").status_code == 401
