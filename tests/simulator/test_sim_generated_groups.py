"""Extra generated groups (`reset(groups=N)`, `--groups N`): a large tenant for the group picker."""
import collections

from microsoft_simulator import demo
from microsoft_simulator.generator import build_tenant, extra_group_name, team_group_id
from harness.simulator import SimulatorProcess

EXTRA = 20_000
PICKER_SELECT = "id,displayName,groupTypes,mailEnabled,securityEnabled"


def shape(group):
    """The kind Microsoft's flags say; any other combination is not a real group."""
    types = group["groupTypes"]
    flags = (group["mailEnabled"], group["securityEnabled"])
    if types == ["Unified"]:
        return "microsoft365" if flags == (True, False) else None
    if types == ["DynamicMembership"]:
        return "dynamic security" if flags == (False, True) else None
    if types:
        return None
    return {(False, True): "security", (True, True): "mail-enabled security",
            (True, False): "distribution"}.get(flags)


EVENTUAL = {"ConsistencyLevel": "eventual"}


def all_pages(graph, url, headers=None):
    items, pages = [], 0
    while url:
        response = graph.get(url, headers=headers or {})
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["value"]
        url, pages = body.get("@odata.nextLink"), pages + 1
    return items, pages


def test_20000_extra_groups_page_through_top_999_each_exactly_once_with_real_shapes(sim, graph):
    built = sim.control.reset(groups=EXTRA)
    assert built["groups"] == demo.CLUTTER_GROUP_COUNT + 6 + EXTRA
    groups, pages = all_pages(graph, f"{graph.base}/groups?$top=999&$select={PICKER_SELECT}")
    assert pages == -(-built["groups"] // 999) == 21
    ids = [g["id"] for g in groups]
    assert len(ids) == len(set(ids)) == built["groups"]  # every group once, none hidden
    assert all(set(g) == set(PICKER_SELECT.split(",")) for g in groups)
    generated = [g for g in groups if g["id"].startswith("f2000000-")]
    assert len(generated) == EXTRA
    kinds = collections.Counter(shape(g) for g in generated)
    assert kinds == {"security": 8000, "mail-enabled security": 2000, "distribution": 4000,
                     "microsoft365": 5000, "dynamic security": 1000}
    names = [g["displayName"] for g in generated]
    assert len(set(names)) == EXTRA
    assert names[:2] == ["Ashdown Academy Staff", "Beacon Hill Primary Staff"]


def test_generated_groups_have_members_mail_and_dynamic_rules(sim, graph):
    sim.control.reset(groups=40)
    groups, _ = all_pages(graph, f"{graph.base}/groups?$top=999")
    by_name = {g["displayName"]: g for g in groups}
    dynamic = by_name[extra_group_name(7)]
    assert dynamic["groupTypes"] == ["DynamicMembership"]
    assert dynamic["membershipRule"] == 'user.department -eq "English"'
    assert dynamic["membershipRuleProcessingState"] == "On"
    members, _ = all_pages(graph, f"{graph.base}/groups/{dynamic['id']}/members")
    assert members and all(m["@odata.type"] == "#microsoft.graph.user" for m in members)
    for member in members:
        user = graph.get(f"{graph.base}/users/{member['id']}?$select=department").json()
        assert user["department"] == "English"
    unified = by_name[extra_group_name(14)]
    assert unified["groupTypes"] == ["Unified"] and unified["visibility"] == "Private"
    assert unified["mail"].endswith(f"@{demo.TENANT_DOMAIN}")
    security = by_name[extra_group_name(5)]
    assert security["mail"] is None
    count = graph.get(f"{graph.base}/groups/{security['id']}/transitiveMembers/microsoft.graph.user"
                      "?$count=true&$top=1", headers={"ConsistencyLevel": "eventual"}).json()
    assert count["@odata.count"] == 5  # generated group i has i % 12 direct members


def test_generated_group_names_are_searchable(sim, graph):
    sim.control.reset(groups=EXTRA)
    wanted = sorted(extra_group_name(i) for i in range(EXTRA)
                    if extra_group_name(i).startswith("Ashdown Academy Maths"))
    found, _ = all_pages(graph, f"{graph.base}/groups?$filter=startswith(displayName,'Ashdown Academy Maths')"
                                "&$top=999&$select=displayName")
    assert sorted(g["displayName"] for g in found) == wanted and len(wanted) == 16
    searched, _ = all_pages(graph, f'{graph.base}/groups?$search="displayName:governors"&$top=999'
                                   "&$select=displayName", headers={"ConsistencyLevel": "eventual"})
    assert len(searched) == EXTRA // 50 and all("Governors" in g["displayName"] for g in searched)


def test_extra_groups_are_deterministic_and_leave_the_demo_tenant_alone():
    first, second = build_tenant(groups=500), build_tenant(groups=500)
    assert first.group_ids == second.group_ids
    assert [first.objects[g]["displayName"] for g in first.group_ids] == \
        [second.objects[g]["displayName"] for g in second.group_ids]
    plain = build_tenant()
    assert first.group_ids[:len(plain.group_ids)] == plain.group_ids
    assert first.transitive_users[demo.NORTHFIELD_STAFF_GROUP_ID] == \
        plain.transitive_users[demo.NORTHFIELD_STAFF_GROUP_ID]


def test_cli_groups_flag_builds_them_and_reset_without_it_forgets_them(tmp_path):
    with SimulatorProcess(state_dir=tmp_path, groups=300, users=100) as process:
        stats = process.control.stats()
        assert stats["groups"] == 156 + 300 + 3 and stats["groups_generated"] == 300
        assert stats["users"] == 52 + 100
        assert process.control.reset()["groups"] == 156


def test_team_size_makes_teams_of_that_many_distinct_users(sim, graph):
    """`reset(users=N, team_size=S)`: the fleet benchmark's schools each choose one team."""
    built = sim.control.reset(users=25, team_size=10)
    assert built["users"] == 52 + 25 and sim.control.stats()["team_size"] == 10
    teams = []
    for team_no in (1, 2, 3):
        members, _ = all_pages(graph, f"{graph.base}/groups/{team_group_id(team_no)}"
                                      "/transitiveMembers/microsoft.graph.user?$top=999&$count=true",
                               EVENTUAL)
        teams.append({m["id"] for m in members})
    assert [len(team) for team in teams] == [10, 10, 5]
    assert not (teams[0] & teams[1]) and not (teams[1] & teams[2])
    staff, _ = all_pages(graph, f"{graph.base}/groups/{demo.GENERATED_STAFF_GROUP_ID}"
                                "/transitiveMembers/microsoft.graph.user?$top=999&$count=true", EVENTUAL)
    assert {m["id"] for m in staff} == teams[0] | teams[1] | teams[2]
    refused = sim.control.session.post(f"{sim.base_url}/_simulator/reset", json={"team_size": 0},
                                       verify=sim.ca_path, timeout=30)
    assert refused.status_code == 400 and "team_size" in refused.json()["error"]
