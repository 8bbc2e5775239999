"""The group picker's whole selection: save, limits, forgeries, browsing, preview, display."""
import re
import uuid

import pytest

from harness.factory import csrf_token_from, version_from
from tests.microsoft_flow import demo, run_quick_jobs
from tests.selection_helpers import build_school_tenant, choose, groups_url, post_picker
from tests.sync_helpers import people, sync_in_process
from webapp.extensions import db
from webapp.microsoft.groups import request_snapshot
from webapp.microsoft.models import RECONNECT_NEEDED, SnapshotGroup
from webapp.microsoft.selection import GroupChoice, Selection, group_choices_for, save_selection
from webapp.microsoft.services import graph_client_for
from webapp.user_sync import models as m
from webapp.user_sync.engine.run import run_sync


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
    # the words left from one group ("a Security group or a Distribution group") are gone
    assert "several Security groups and Distribution groups" in settings.text
    assert "a Security group or a Distribution group" not in settings.text
    checks = school.client.get(f"/o/{school.org.id}/settings/user-sync/troubleshooting/").text
    assert f"{school.org.name} has chosen the groups to sync" in checks
    assert "has chosen a group" not in checks
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


def test_show_more_lists_the_pages_so_far_and_a_tick_keeps_them_within_a_bound(tenant):
    """With JavaScript Show more asks for pages 1 to N ("through"); a tick then redraws the same
    N pages (shown_through). N is bounded: a forged one lists at most 20 pages."""
    school, ids, groups = tenant
    for n in range(120):
        school.sim.control.create_group(f"Aardvark Team {n:03d}")
    run_quick_jobs(school.client.application)
    token = csrf_token_from(school.client.get(groups_url(school.org)).text)

    def listed(**form):
        response = school.client.post(groups_url(school.org), headers={"HX-Request": "true"},
                                      data={"csrf_token": token, "part": "choices", **form})
        assert response.status_code == 200
        return _values(response.text.split('id="chosen-groups"')[1].split("</fieldset>", 1)[1])
    assert len(listed(action="page", page="2", through="2")) == 100
    ticked = listed(action="tick", shown_through="3", shown_page="3", sync=[groups.teaching])
    assert len(ticked) == 150 and groups.teaching not in ticked
    assert len(listed(action="page", page="2")) == 50  # without JavaScript: one page
    assert len(listed(action="page", through="9" * 10_000)) <= 20 * 50


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


def test_a_preview_of_unsaved_ticks_says_so_offers_save_and_keeps_the_ticks(tenant):
    school, ids, groups = tenant
    sync_in_process(school)
    post_picker(school.client, school.org, synced=[groups.teaching, groups.support],
                excluded=[groups.pupils], action="preview")
    run_sync(db.session.query(m.SyncRun).filter_by(kind=m.KIND_PREVIEW).one().id)
    screen = school.client.get(f"/o/{school.org.id}/settings/user-sync/").text
    text = " ".join(re.sub(r"<[^>]+>", " ", screen).split())
    assert "If you sync now" not in text  # Sync now would use the saved groups
    assert "If you save these groups and then sync: 8 added, 0 updated, 27 suspended" in text
    assert ("These groups are not saved: Syncing: Support Staff, Teaching Staff; never syncing: "
            "All Pupils. Sync now uses the saved groups (Syncing: Northfield Staff) until you "
            "save these.") in text
    back = re.search(r'href="([^"]+)">Back to the groups with these ticks', screen).group(1)
    picker = school.client.get(back.replace("&amp;", "&")).text
    chosen = picker[picker.index('id="chosen-groups"'):picker.index("</fieldset>")]
    ticked = set(re.findall(r'name="(sync|exclude)" id="[^"]+" value="([^"]+)"[^>]*checked',
                            " ".join(chosen.split())))
    assert ticked == {("sync", groups.teaching), ("sync", groups.support),
                      ("exclude", groups.pupils)}  # the previewed ticks, not the saved ones
    form = screen[screen.index('action="/o/'):screen.index("Save these groups")]
    fields = dict(re.findall(r'name="(csrf_token|version)" value="([^"]+)"', form))
    saved_now = school.client.post(groups_url(school.org), data={
        **fields, "action": "save", "sync": re.findall(r'name="sync" value="([^"]+)"', form),
        "exclude": re.findall(r'name="exclude" value="([^"]+)"', form)})
    assert saved_now.status_code == 302
    assert saved(school.org) == [("All Pupils", "exclude"), ("Support Staff", "sync"),
                                 ("Teaching Staff", "sync")]
    after = school.client.get(f"/o/{school.org.id}/settings/user-sync/").text
    assert "If you sync now: 8 added, 0 updated, 27 suspended" in after  # the saved groups now
    assert "Save these groups" not in after


def test_a_preview_of_the_saved_groups_is_not_called_unsaved(tenant):
    school, ids, groups = tenant
    sync_in_process(school)
    answer = post_picker(school.client, school.org, synced=[demo.NORTHFIELD_STAFF_GROUP_ID],
                         action="preview")
    page = school.client.get(answer.location).text
    assert "Previewing the saved groups (Syncing: Northfield Staff)." in page
    assert "(not saved)" not in page


@pytest.mark.both_databases
def test_a_forged_post_of_thousands_of_ticks_is_answered_not_a_server_error(tenant):
    school, ids, groups = tenant
    forged = [str(uuid.UUID(int=i)) for i in range(70_000)]  # past PostgreSQL's 65,535 parameters
    searched = post_picker(school.client, school.org, synced=forged, action="search", q="staff")
    assert searched.status_code == 200 and "Teaching Staff</label>" in searched.text
    refused = post_picker(school.client, school.org, synced=forged)
    assert refused.status_code == 422 and "at most 20 can be synced" in refused.text
    assert saved(school.org) == [("Northfield Staff", "sync")]


ART_TEAM = "Northfield Art Team 01"


def _snapshot_id(name):
    return db.session.query(SnapshotGroup).filter_by(display_name=name).one().group_id


def _ticked(html, box):
    """The group ids whose `box` checkbox ("sync" or "exclude") is ticked in this html."""
    tags = re.findall(r'<input type="checkbox" name="%s"[^>]*>' % box, html, re.S)
    return {re.search(r'value="([^"]+)"', tag).group(1) for tag in tags if " checked" in tag}


def _refusal(kind, school, staff, tas, art):
    """(ticks to post, how to make the picker refuse them) for each refusal the picker has."""
    if kind == "both ways":
        return [staff, tas], [art, staff]
    if kind == "over the limit":
        teams = db.session.query(SnapshotGroup).filter(
            SnapshotGroup.display_name.like("% Team %"), SnapshotGroup.group_id != art,
            SnapshotGroup.kind.in_(["security", "distribution"])).limit(19).all()
        return [staff, tas] + [team.group_id for team in teams], [art]
    if kind == "microsoft 365":
        return [staff, tas, demo.EVERYONE_GROUP_ID], [art]
    if kind == "reconnect needed":
        school.connection.status = RECONNECT_NEEDED
        db.session.commit()
    if kind == "microsoft refuses":
        school.sim.control.set_faults(error_status=403, error_count=1000)
    return [staff, demo.SOUTHFIELD_STAFF_GROUP_ID], [art]


@pytest.mark.parametrize("kind", ["both ways", "over the limit", "microsoft 365",
                                  "reconnect needed", "microsoft refuses"])
def test_every_refusal_brings_the_picker_back_exactly_as_it_was_left(tenant, kind):
    """Saved: sync Northfield Staff and the TAs, exclude Art Team 01. Whatever refuses the next
    save, every tick in both columns comes back, with the search and the page: the refusal once
    dropped every Exclude tick, and the next save synced the pupils."""
    school = tenant[0]
    staff, tas, art = demo.NORTHFIELD_STAFF_GROUP_ID, demo.NORTHFIELD_TA_GROUP_ID, _snapshot_id(
        ART_TEAM)
    choose(school, synced=[staff, tas], excluded=[art])
    page = school.client.get(groups_url(school.org))
    synced, excluded = _refusal(kind, school, staff, tas, art)
    response = school.client.post(groups_url(school.org), data={
        "csrf_token": csrf_token_from(page.text), "version": version_from(page.text),
        "action": "save", "sync": synced, "exclude": excluded, "q": "Team", "shown_q": "Team",
        "shown_page": "2"})
    assert response.status_code == 422 and 'id="selection-error"' in response.text
    assert "Nothing was saved" in response.text or "nothing was saved" in response.text
    chosen = response.text.split('id="chosen-groups"')[1].split("</fieldset>")[0]
    assert (_ticked(chosen, "sync"), _ticked(chosen, "exclude")) == (set(synced), set(excluded))
    assert 'id="group-search" name="q" type="search" value="Team"' in response.text
    assert "Page 2 of 3" in response.text
    assert saved(school.org) == [(ART_TEAM, "exclude"), ("Northfield Staff", "sync"),
                                 ("Northfield Teaching Assistants", "sync")]


def test_a_save_over_groups_changed_in_another_tab_is_refused_and_shows_them_as_they_are(
        tenant, factory):
    school, ids, groups = tenant
    opened = school.client.get(groups_url(school.org)).text  # this tab, opened first
    deputy = factory.user("deputy@northfield.example", [school.org], role="admin",
                          name="Deputy Head")
    save_selection(school.org, deputy, {groups.teaching: "sync", groups.pupils: "exclude"},
                   graph_client_for(school.connection))
    response = school.client.post(groups_url(school.org), data={
        "csrf_token": csrf_token_from(opened), "version": version_from(opened), "action": "save",
        "sync": [demo.NORTHFIELD_STAFF_GROUP_ID, groups.support]})
    assert response.status_code == 409
    assert "These settings were changed by Deputy Head at " in response.text
    assert "Your ticks were: sync Northfield Staff, Support Staff." in response.text
    chosen = response.text.split('id="chosen-groups"')[1].split("</fieldset>")[0]
    assert (_ticked(chosen, "sync"), _ticked(chosen, "exclude")) == ({groups.teaching},
                                                                     {groups.pupils})
    assert saved(school.org) == [("All Pupils", "exclude"), ("Teaching Staff", "sync")]
    again = school.client.post(groups_url(school.org), data={
        "csrf_token": csrf_token_from(opened), "version": version_from(response.text),
        "action": "save", "sync": [groups.teaching, groups.support], "exclude": [groups.pupils]})
    assert again.status_code == 302
    assert saved(school.org) == [("All Pupils", "exclude"), ("Support Staff", "sync"),
                                 ("Teaching Staff", "sync")]


def test_import_settings_says_a_deleted_excluded_group_no_longer_keeps_its_members_out(tenant):
    """Import settings once warned of every deleted group as of a synced one ("choose the group
    that replaced it"), the pupils' group too; now it says what the sync does without it."""
    school, ids, groups = tenant
    choose(school, synced=[groups.teaching], excluded=[groups.pupils])
    school.sim.control.delete_group(groups.pupils)
    request_snapshot(school.connection)
    run_quick_jobs(school.client.application)  # the list of groups that shows it is gone
    page = school.client.get(f"/o/{school.org.id}/settings/user-sync/import/microsoft").text
    warning = page.split('id="groups-gone">', 1)[1].split("</p>", 1)[0]
    assert warning.startswith(
        "The chosen group “All Pupils” no longer exists in Microsoft (deleted, perhaps), so it can "
        "no longer keep its members out of the sync. Syncs stop rather than sync them. <a href=")
    assert warning.endswith(">Change the groups</a>: untick it, exclude the group that now "
                            "holds those people, and press Save groups.")
    picker = school.client.get(groups_url(school.org)).text
    assert "so it can no longer keep its members out of the sync" in picker  # the same words
