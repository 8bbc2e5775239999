"""A school tenant with staff in several groups and pupils who must never be synced.

    Teaching Staff (security)        t1 t2 t3, p1 (a pupil put there by mistake), Supply Teachers
    Support Staff (distribution)     s1 s2 s3 t3, p2, Supply Teachers
    Supply Teachers (security)       u1 u2        (nested inside both staff groups)
    All Pupils (security)            p3, Year 7   (Year 7 nested: p1 p2)
"""
from types import SimpleNamespace

from harness.factory import csrf_token_from, version_from
from tests.microsoft_flow import demo
from webapp.microsoft.selection import save_selection
from webapp.microsoft.services import graph_client_for

STAFF = ("t1", "t2", "t3", "s1", "s2", "s3", "u1", "u2")


def build_school_tenant(control):
    ids = {name: control.create_user(userPrincipalName=f"{name}@{demo.TENANT_DOMAIN}",
                                     displayName=f"Person {name.upper()}")
           for name in STAFF + ("p1", "p2", "p3")}
    supply = control.create_group("Supply Teachers", members=[ids["u1"], ids["u2"]])
    year7 = control.create_group("Year 7", members=[ids["p1"], ids["p2"]])
    groups = SimpleNamespace(
        supply=supply, year7=year7,
        teaching=control.create_group("Teaching Staff", members=[
            ids["t1"], ids["t2"], ids["t3"], ids["p1"], supply]),
        support=control.create_group("Support Staff", kind="distribution", members=[
            ids["s1"], ids["s2"], ids["s3"], ids["t3"], ids["p2"], supply]),
        pupils=control.create_group("All Pupils", members=[ids["p3"], year7]))
    return ids, groups


def choose(school, synced=(), excluded=()):
    roles = {**dict.fromkeys(synced, "sync"), **dict.fromkeys(excluded, "exclude")}
    return save_selection(school.org, school.admin, roles, graph_client_for(school.connection))


def groups_url(org):
    return f"/o/{org.id}/settings/user-sync/import/microsoft/groups"


def post_picker(client, org, synced=(), excluded=(), action="save", **extra):
    """The picker's form as a button sends it; Preview changes posts it to its formaction."""
    page = client.get(groups_url(org))
    target = groups_url(org) + ("/preview" if action == "preview" else "")
    assert action != "preview" or f'formaction="{target}"' in page.text
    return client.post(target, data={
        "csrf_token": csrf_token_from(page.text), "version": version_from(page.text),
        "action": action, "sync": list(synced), "exclude": list(excluded), **extra})
