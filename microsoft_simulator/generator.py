"""Large deterministic tenants for benchmarks.

"Generated Staff" (security) contains region groups, each containing team
groups of up to TEAM_SIZE users (or `team_size=N`), so the large list is reached only through
nesting, as in real trusts. Teams never share a user: team n holds users (n-1)*size to n*size-1.

Extra groups (`groups=N`) fill the tenant's group list for the picker: the four kinds
Microsoft has, some dynamic, with school-like names, each unique.
"""
from . import demo
from .directory import Directory

TEAM_SIZE = 2500
TEAMS_PER_REGION = 4
_USER_PREFIX = "f0000000-0000-4000-8000-"
_GROUP_PREFIX = "f1000000-0000-4000-8000-"
_EXTRA_GROUP_PREFIX = "f2000000-0000-4000-8000-"

_SCHOOLS = ["Ashdown Academy", "Beacon Hill Primary", "Castle Mead School", "Dovecote Infants",
            "Elmstead Juniors", "Fairfield High", "Greenway Primary", "Harbour View Academy",
            "Ivybridge College", "Juniper Green School", "Kingsmead Primary", "Larkrise Academy",
            "Meadowbank School", "Netherby Primary", "Orchard Vale Academy", "Parkside High",
            "Queensbury Juniors", "Riverside Primary", "St Aidan's CE Primary", "Thornhill Academy",
            "Upton Park School", "Valley Road Primary", "Westfield College", "Yewtree Academy",
            "Abbeyfield Sixth Form"]
_TOPICS = ["Staff", "Teaching Staff", "Support Staff", "Leadership Team", "Governors", "Office",
           "Maths Department", "English Department", "Science Department", "Humanities",
           "Modern Languages", "Computing", "Art and Design", "Music", "PE Department", "Drama",
           "SEND Team", "Safeguarding", "Pastoral Team", "Exams Office", "Invigilators",
           "Site Team", "Catering", "IT Support", "Finance", "HR", "Admissions", "Reception Class",
           "Year 1", "Year 2", "Year 3", "Year 4", "Year 5", "Year 6", "Year 7 Tutors",
           "Year 8 Tutors", "Year 9 Tutors", "Year 10 Tutors", "Year 11 Tutors", "Sixth Form Tutors",
           "Heads of Year", "Trip Leaders", "Duke of Edinburgh", "Eco Council", "School Council",
           "PTA", "Library", "Careers", "Wellbeing", "Cover Supervisors"]
# demo._group kinds in a 20-group cycle: 8 security, 2 mail-enabled security, 4 distribution,
# 5 Microsoft 365 and 1 dynamic (security, DynamicMembership).
_KIND_CYCLE = (["security"] * 7 + ["dynamic"] + ["mail-security"] * 2 + ["distribution"] * 4
               + ["unified"] * 5 + ["security"])


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


def team_group_id(team_no):
    """The id of "Generated Team NNN" (1-based)."""
    return f"{_GROUP_PREFIX}{team_no:012x}"


def add_generated_staff(directory: Directory, count: int, team_size: int = TEAM_SIZE):
    if not count:
        return
    directory.add_group({**_group(0, "Generated Staff"), "id": demo.GENERATED_STAFF_GROUP_ID,
                         "description": f"{count} generated users for benchmarks"}, record=False)
    teams = []
    for start in range(0, count, team_size):
        team_no = len(teams) + 1
        team = directory.add_group(_group(team_no, f"Generated Team {team_no:03d}"), record=False)
        ids = []
        for i in range(start, min(start + team_size, count)):
            ids.append(directory.add_user(_user(i), record=False)["id"])
        directory.set_members(team["id"], ids)
        teams.append(team["id"])
    regions = []
    for r, first in enumerate(range(0, len(teams), TEAMS_PER_REGION), start=1):
        region = directory.add_group(_group(10000 + r, f"Generated Region {r:02d}"), record=False)
        directory.set_members(region["id"], teams[first:first + TEAMS_PER_REGION])
        regions.append(region["id"])
    directory.set_members(demo.GENERATED_STAFF_GROUP_ID, regions)


def extra_group_name(i):
    """Unique for every i: school x topic, then an academic year once those run out."""
    school = _SCHOOLS[i % len(_SCHOOLS)]
    topic = _TOPICS[(i // len(_SCHOOLS)) % len(_TOPICS)]
    cycle = i // (len(_SCHOOLS) * len(_TOPICS))
    year = f" {2025 - cycle}-{(2026 - cycle) % 100:02d}" if cycle else ""
    return f"{school} {topic}{year}"


def _extra_group(i, staff_ids, by_department):
    kind = _KIND_CYCLE[i % len(_KIND_CYCLE)]
    group = demo._group(f"{_EXTRA_GROUP_PREFIX}{i:012x}", extra_group_name(i), kind)
    if kind == "dynamic":
        department = demo._DEPARTMENTS[i % len(demo._DEPARTMENTS)]
        group["membershipRule"] = f'user.department -eq "{department}"'
        return group, by_department.get(department, [])
    start = (i * 7) % len(staff_ids)
    return group, staff_ids[start:start + i % 12]  # 0 to 11 direct members


def add_extra_groups(directory: Directory, count: int):
    """count more groups for the picker. Members are demo staff; a dynamic group's members are
    its rule's result at build time (the rule is not re-evaluated when users change)."""
    if not count:
        return
    staff_ids = [u for u in directory.user_ids if not u.startswith(_USER_PREFIX)]
    by_department = {}
    for user_id in staff_ids:
        department = directory.objects[user_id].get("department")
        by_department.setdefault(department, []).append(user_id)
    for i in range(count):
        group, members = _extra_group(i, staff_ids, by_department)
        directory.add_group(group, record=False)
        if members:
            directory.set_members(group["id"], members)


def build_tenant(users=None, groups=None, team_size=None) -> Directory:
    directory = Directory()
    demo.load_demo(directory)
    add_generated_staff(directory, users or 0, team_size or TEAM_SIZE)
    add_extra_groups(directory, groups or 0)
    directory.finish_build()
    directory.changes.clear()  # delta starts from the built state
    return directory
