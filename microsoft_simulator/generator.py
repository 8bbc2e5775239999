"""Large deterministic tenants for benchmarks.

"Generated Staff" (security) contains region groups, each containing team
groups of up to TEAM_SIZE users, so the large list is reached only through
nesting, as in real trusts.
"""
from . import demo
from .directory import Directory

TEAM_SIZE = 2500
TEAMS_PER_REGION = 4
_USER_PREFIX = "f0000000-0000-4000-8000-"
_GROUP_PREFIX = "f1000000-0000-4000-8000-"


def _user(i):
    first = demo._FIRST[i % len(demo._FIRST)]
    last = demo._LAST[(i // len(demo._FIRST)) % len(demo._LAST)]
    upn = f"gen.{i:06d}@{demo.TENANT_DOMAIN}"
    return {
        "id": f"{_USER_PREFIX}{i:012x}", "displayName": f"{first} {last} {i}",
        "givenName": first, "surname": last, "userPrincipalName": upn,
        "mail": None if i % 97 == 0 else upn,
        "jobTitle": demo._TITLES[i % len(demo._TITLES)],
        "department": demo._DEPARTMENTS[i % len(demo._DEPARTMENTS)],
        "accountEnabled": i % 211 != 0,
    }


def _group(n, name):
    return {"id": f"{_GROUP_PREFIX}{n:012x}", "displayName": name, "groupTypes": [],
            "mailEnabled": False, "securityEnabled": True, "mailNickname": f"generated{n}"}


def add_generated_staff(directory: Directory, count: int):
    if not count:
        return
    directory.add_group({**_group(0, "Generated Staff"), "id": demo.GENERATED_STAFF_GROUP_ID,
                         "description": f"{count} generated users for benchmarks"}, record=False)
    teams = []
    for start in range(0, count, TEAM_SIZE):
        team_no = len(teams) + 1
        team = directory.add_group(_group(team_no, f"Generated Team {team_no:03d}"), record=False)
        ids = []
        for i in range(start, min(start + TEAM_SIZE, count)):
            ids.append(directory.add_user(_user(i), record=False)["id"])
        directory.set_members(team["id"], ids)
        teams.append(team["id"])
    regions = []
    for r, first in enumerate(range(0, len(teams), TEAMS_PER_REGION), start=1):
        region = directory.add_group(_group(10000 + r, f"Generated Region {r:02d}"), record=False)
        directory.set_members(region["id"], teams[first:first + TEAMS_PER_REGION])
        regions.append(region["id"])
    directory.set_members(demo.GENERATED_STAFF_GROUP_ID, regions)


def build_tenant(users=None) -> Directory:
    directory = Directory()
    demo.load_demo(directory)
    add_generated_staff(directory, users or 0)
    directory.finish_build()
    directory.changes.clear()  # delta starts from the built state
    return directory
