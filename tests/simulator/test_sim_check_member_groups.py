"""POST /users/{id | upn}/checkMemberGroups as Microsoft documents it: transitive, at most 20
group ids, the subset the user is in (in the order asked), and both a user and a group scope."""
import requests

from sim_helpers import Browser, sign_in_with_msal
from microsoft_simulator import demo

USERS, _, TEACHING_ASSISTANTS, _, _ = demo.demo_users()
NESTED_TA = TEACHING_ASSISTANTS[0]  # in Northfield Staff only through the nested TA group
MISSING = "00000000-0000-4000-8000-00000000dead"


def check(graph, user_key, group_ids):
    return graph.post(f"{graph.base}/users/{user_key}/checkMemberGroups",
                      json={"groupIds": group_ids})


def test_answers_the_groups_the_user_is_in_nested_ones_included(graph):
    asked = [demo.SOUTHFIELD_STAFF_GROUP_ID, demo.NORTHFIELD_TA_GROUP_ID,
             demo.NORTHFIELD_STAFF_GROUP_ID, MISSING]
    response = check(graph, NESTED_TA, asked)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["@odata.context"].endswith("/v1.0/$metadata#Collection(Edm.String)")
    assert body["value"] == [demo.NORTHFIELD_TA_GROUP_ID, demo.NORTHFIELD_STAFF_GROUP_ID]


def test_the_user_may_be_named_by_user_principal_name(graph):
    response = check(graph, demo.PERSONAL_UPN, [demo.SOUTHFIELD_STAFF_GROUP_ID,
                                                demo.NORTHFIELD_STAFF_GROUP_ID])
    assert response.json()["value"] == [demo.SOUTHFIELD_STAFF_GROUP_ID]


def test_more_than_twenty_groups_or_no_list_is_a_bad_request(graph):
    response = check(graph, demo.PERSONAL_ID, [demo.SOUTHFIELD_STAFF_GROUP_ID] * 21)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "Request_BadRequest"
    assert check(graph, demo.PERSONAL_ID, [MISSING] * 20).json()["value"] == []
    response = graph.post(f"{graph.base}/users/{demo.PERSONAL_ID}/checkMemberGroups", json={})
    assert response.status_code == 400


def test_unknown_user_is_404_and_a_user_scope_alone_is_403(sim, graph):
    response = check(graph, MISSING, [demo.NORTHFIELD_STAFF_GROUP_ID])
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "Request_ResourceNotFound"
    sim.control.set_tenant(admin_consent_required=False)  # users may consent: a user scope alone
    _, result = sign_in_with_msal(sim, Browser(sim), account=demo.PERSONAL_UPN,
                                  scopes=["User.Read", "User.Read.All"])
    response = requests.post(f"{graph.base}/users/{demo.PERSONAL_ID}/checkMemberGroups",
                             json={"groupIds": [demo.SOUTHFIELD_STAFF_GROUP_ID]},
                             headers={"Authorization": f"Bearer {result['access_token']}"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "Authorization_RequestDenied"
