"""Delta queries for users and groups."""
from microsoft_simulator import demo


def _round(graph, url):
    """Follow nextLinks to the deltaLink; return (items, deltaLink, pages)."""
    items, pages = [], 0
    while True:
        body = graph.get(url).json()
        assert "value" in body, body
        items += body["value"]
        pages += 1
        if "@odata.deltaLink" in body:
            return items, body["@odata.deltaLink"], pages
        url = body["@odata.nextLink"]


def test_users_delta_initial_round_then_changes(sim, graph):
    items, delta_link, pages = _round(graph, f"{graph.base}/users/delta?$select=displayName,accountEnabled")
    assert len(items) == len({i["id"] for i in items}) > 50 and pages == 1
    assert "$deltatoken=" in delta_link
    nothing, delta_link, _ = _round(graph, delta_link)
    assert nothing == []
    sim.control.update_user(demo.PERSONAL_ID, displayName="Jo Changed", accountEnabled=False)
    sim.control.delete_user(demo.OBRIEN_ID)
    changes, delta_link, _ = _round(graph, delta_link)
    by_id = {c["id"]: c for c in changes}
    assert by_id[demo.PERSONAL_ID] == {"displayName": "Jo Changed", "accountEnabled": False, "id": demo.PERSONAL_ID}
    assert by_id[demo.OBRIEN_ID]["@removed"] == {"reason": "changed"}


def test_users_delta_pages_large_tenant(sim, graph):
    sim.control.reset(users=450)
    items, _, pages = _round(graph, f"{graph.base}/users/delta")
    assert pages == 6 and len({i["id"] for i in items}) == len(items) > 500


def test_groups_delta_members(sim, graph):
    items, delta_link, _ = _round(graph, f"{graph.base}/groups/delta?$select=displayName,members")
    north = next(g for g in items if g["id"] == demo.NORTHFIELD_STAFF_GROUP_ID)
    assert len(north["members@delta"]) == 29
    assert {m["@odata.type"] for m in north["members@delta"]} >= {"#microsoft.graph.group", "#microsoft.graph.device"}
    sim.control.add_member(demo.NORTHFIELD_STAFF_GROUP_ID, demo.PERSONAL_ID)
    sim.control.remove_member(demo.NORTHFIELD_STAFF_GROUP_ID, demo.OBRIEN_ID)
    sim.control.delete_group(demo.MAIL_SECURITY_GROUP_ID)
    changes, _, _ = _round(graph, delta_link)
    by_id = {c["id"]: c for c in changes}
    members = {m["id"]: m for m in by_id[demo.NORTHFIELD_STAFF_GROUP_ID]["members@delta"]}
    assert "@removed" not in members[demo.PERSONAL_ID]
    assert members[demo.OBRIEN_ID]["@removed"] == {"reason": "deleted"}
    assert by_id[demo.MAIL_SECURITY_GROUP_ID]["@removed"] == {"reason": "deleted"}


def test_expired_delta_token_is_sync_state_not_found(sim, graph):
    _, delta_link, _ = _round(graph, f"{graph.base}/users/delta")
    sim.control.expire_delta_tokens()
    response = graph.get(delta_link)
    assert response.status_code == 410
    assert response.json()["error"]["code"] == "syncStateNotFound"
    _, delta_link, _ = _round(graph, f"{graph.base}/users/delta")
    sim.control.reset()  # a rebuilt tenant has no sync state either
    assert graph.get(delta_link).status_code == 410
