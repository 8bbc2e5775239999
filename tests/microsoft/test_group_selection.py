"""The group picker's whole selection: save, limits, forgeries, browsing, preview, display."""
import re
import uuid

import pytest

from harness.factory import csrf_token_from
from tests.microsoft_flow import demo, run_quick_jobs
from tests.selection_helpers import build_school_tenant, groups_url, post_picker
from tests.sync_helpers import people, sync_in_process
from webapp.extensions import db
from webapp.microsoft.models import GroupChoice, SnapshotGroup, group_choices_for
from webapp.user_sync import models as m
from webapp.user_sync.engine.run import run_sync
from webapp.user_sync.engine.selection import Selection


@pytest.fixture
def tenant(school):
    ids, groups = build_school_tenant(school.sim.control)
    run_quick_jobs(school.client.application)  # the snapshot the picker lists
    return school, ids, groups


def saved(org):
    return sorted((c.display_name, c.role) for c in group_choices_for(org))


def test_save_groups_saves_the_whole_selection_and_changes_nobody_yet(tenant):
    school, ids, groups = tenant
    before = len(people(school.org))
    response = post_picker(school.client, school.org, synced=[groups.teaching, groups.support],
                           excluded=[groups.pupils])
    assert response.status_code == 302
    assert saved(school.org) == [("All Pupils", "exclude"), ("Support Staff", "sync"),
                                 ("Teaching Staff", "sync")]
    assert len(people(school.org)) == before
    settings = school.client.get(f"/o/{school.org.id}/settings/user-sync/import/microsoft")
    assert "Syncing: Support Staff, Teaching Staff; never syncing: All Pupils." in settings.text
    screen = school.client.get(f"/o/{school.org.id}/settings/user-sync/")
    assert "Syncing: Support Staff, Teaching Staff; never syncing: All Pupils" in screen.text


@pytest.mark.parametrize("synced, excluded, message", [
    (21, 0, "at most 20 can be synced"),
    (1, 6, "at most 5 can be excluded"),
])
def test_more_than_20_synced_or_5_excluded_groups_are_refused(tenant, synced, excluded, message):
    school, ids, groups = tenant
    ticked = [str(uuid.UUID(int=i)) for i in range(synced + excluded)]
    response = post_picker(school.client, school.org, synced=ticked[:synced],
                           excluded=ticked[synced:])
    assert response.status_code == 422
    assert message in response.text and "Nothing was saved" in response.text
    assert saved(school.org) == [("Northfield Staff", "sync")]


def test_the_limits_themselves_are_allowed(tenant):
    school, ids, groups = tenant
    control = school.sim.control
    many = [control.create_group(f"Staff Team {i:02d}") for i in range(20)]
    pupils = [control.create_group(f"Pupils {i}") for i in range(5)]
    response = post_picker(school.client, school.org, synced=many, excluded=pupils)
    assert response.status_code == 302
    assert len(group_choices_for(school.org)) == 25


@pytest.mark.parametrize("forged", ["microsoft365", "other tenant", "unknown", "not an id"])
def test_forged_selections_are_refused_and_nothing_is_saved(tenant, forged):
    school, ids, groups = tenant
    # Another tenant's group is, to this tenant's Graph, an id it does not know (404).
    group_id = {"microsoft365": demo.EVERYONE_GROUP_ID, "other tenant": str(uuid.uuid4()),
                "unknown": "b0000000-0000-4000-8000-00000000dead",
                "not an id": "../users"}[forged]
    for synced, excluded in (([groups.teaching, group_id], []), ([groups.teaching], [group_id])):
        response = post_picker(school.client, school.org, synced=synced, excluded=excluded)
        assert response.status_code == 422
        assert 'id="selection-error"' in response.text and "saved its groups" not in response.text
        assert saved(school.org) == [("Northfield Staff", "sync")]


def test_a_group_cannot_both_sync_and_exclude(tenant):
    school, ids, groups = tenant
    response = post_picker(school.client, school.org, synced=[groups.teaching],
                           excluded=[groups.teaching])
    assert response.status_code == 422 and "cannot both sync and exclude" in response.text
    assert saved(school.org) == [("Northfield Staff", "sync")]


def test_search_and_pages_keep_the_ticks_and_reach_every_group(tenant):
    school, ids, groups = tenant
    searched = post_picker(school.client, school.org, synced=[groups.teaching],
                           excluded=[groups.pupils], action="search", q="support")
    text = searched.text
    chosen = text.split('id="chosen-groups"')[1].split("</fieldset>")[0]
    assert "Teaching Staff</label>" in chosen and "All Pupils</label>" in chosen
    assert "Northfield Staff</label>" not in chosen  # untick = dropped from the selection
    assert chosen.count("checked") == 2
    results = text.split('id="chosen-groups"')[1].split("</fieldset>", 1)[1]
    assert "Support Staff</label>" in results and "Teaching Staff</label>" not in results
    seen, page, token = set(), 1, csrf_token_from(school.client.get(groups_url(school.org)).text)
    while True:
        response = school.client.post(groups_url(school.org), headers={"HX-Request": "true"},
                                      data={"csrf_token": token, "action": "page", "page": page,
                                            "part": "choices", "sync": [groups.teaching]})
        listed = response.text.split('id="chosen-groups"')[1].split("</fieldset>", 1)[1]
        seen.update(_values(listed))
        if "Show more groups" not in listed:
            break
        page += 1
    total = db.session.query(SnapshotGroup).count()
    assert page == -(-(total - 1) // 50) and len(seen) == total - 1  # every group but the ticked one


def _values(html):
    return set(re.findall(r'name="sync" id="[^"]+" value="([^"]+)"', html))


def test_preview_changes_previews_the_ticked_groups_without_saving_them(tenant):
    school, ids, groups = tenant
    sync_in_process(school)
    before = {p.microsoft_id: p.status for p in people(school.org)}
    response = post_picker(school.client, school.org, synced=[groups.teaching, groups.support],
                           excluded=[groups.pupils], action="preview")
    assert response.status_code == 303
    run = db.session.query(m.SyncRun).filter_by(kind=m.KIND_PREVIEW).one()
    assert [g.name for g in Selection.from_json(run.selection).synced] == [
        "Support Staff", "Teaching Staff"]
    run = run_sync(run.id)
    assert run.status == m.COMPLETE, run.reason
    # 8 staff added; Northfield Staff's 27 would be suspended; the pupils skipped.
    assert (run.added, run.suspended) == (8, 27)
    assert {p.microsoft_id: p.status for p in people(school.org)} == before
    assert saved(school.org) == [("Northfield Staff", "sync")]
    assert db.session.query(GroupChoice).count() == 1


@pytest.mark.both_databases
def test_a_forged_post_of_thousands_of_ticks_is_answered_not_a_server_error(tenant):
    school, ids, groups = tenant
    forged = [str(uuid.UUID(int=i)) for i in range(70_000)]  # past PostgreSQL's 65,535 parameters
    searched = post_picker(school.client, school.org, synced=forged, action="search", q="staff")
    assert searched.status_code == 200 and "Teaching Staff</label>" in searched.text
    refused = post_picker(school.client, school.org, synced=forged)
    assert refused.status_code == 422 and "at most 20 can be synced" in refused.text
    assert saved(school.org) == [("Northfield Staff", "sync")]
