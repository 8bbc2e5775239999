"""In Chromium, by accessible names: a refused picker comes back with both columns ticked as the
admin left them; a second tab's save over newer groups is refused naming who and when; two tabs
on a review say what became of it in the Sync card instead of showing a page inside it."""
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.microsoft_flow import demo, run_quick_jobs
from tests.selection_helpers import choose
from tests.sync_helpers import NORTHFIELD, sync_in_process
from webapp.extensions import db
from webapp.microsoft.models import SnapshotGroup
from webapp.microsoft.selection import group_choices_for
from webapp.user_sync import models as m
from webapp.user_sync.settings import save_settings

pytestmark = pytest.mark.backends("postgresql")

ART_TEAM = "Northfield Art Team 01"


def saved_groups(org):
    db.session.expire_all()
    return sorted((c.display_name, c.role) for c in group_choices_for(org))


def test_a_refused_picker_and_two_tabs_on_the_picker_and_a_review_lose_nothing(
        app, school, live_server, browser_page):
    run_quick_jobs(app)  # the group snapshot the picker lists
    art = db.session.query(SnapshotGroup).filter_by(display_name=ART_TEAM).one().group_id
    choose(school, synced=[NORTHFIELD, demo.NORTHFIELD_TA_GROUP_ID], excluded=[art])
    page = browser_page
    sign_in(page, live_server, school.admin.email)
    picker = f"{live_server}/o/{school.org.id}/settings/user-sync/import/microsoft/groups"
    other_tab = page.context.new_page()
    other_tab.goto(picker)  # opened before this tab's save
    page.goto(picker)

    # Tick Exclude for a synced group: refused, and every box comes back as it was left.
    chosen = page.get_by_role("group", name="Chosen groups")
    chosen.get_by_role("checkbox", name="Exclude members of Northfield Staff").check()
    page.get_by_role("button", name="Save groups").click()
    expect(page.get_by_role("alert").filter(has_text="cannot both sync and exclude")).to_be_visible()
    for name in ("Northfield Staff", "Exclude members of Northfield Staff",
                 "Northfield Teaching Assistants", f"Exclude members of {ART_TEAM}"):
        expect(chosen.get_by_role("checkbox", name=name, exact=True)).to_be_checked()
    expect(chosen.get_by_role(
        "checkbox", name="Exclude members of Northfield Teaching Assistants")).not_to_be_checked()
    chosen.get_by_role("checkbox", name="Exclude members of Northfield Staff").uncheck()
    page.get_by_role("button", name="Save groups").click()
    expect(page.get_by_text(f"never syncing: {ART_TEAM}", exact=False).first).to_be_visible()

    # The other tab, drawn before that save, unticks the TAs: refused, and shows the groups now.
    other_chosen = other_tab.get_by_role("group", name="Chosen groups")
    other_chosen.get_by_role("checkbox", name="Northfield Teaching Assistants",
                             exact=True).uncheck()
    other_tab.get_by_role("button", name="Save groups").click()
    expect(other_tab.get_by_role("alert").filter(has_text="These settings were changed by you "
                                                          "(in another tab or window) at")
           ).to_be_visible()
    expect(other_chosen.get_by_role("checkbox", name="Northfield Teaching Assistants",
                                    exact=True)).to_be_checked()
    expect(other_chosen.get_by_role("checkbox", name=f"Exclude members of {ART_TEAM}")
           ).to_be_checked()
    assert saved_groups(school.org) == [(ART_TEAM, "exclude"), ("Northfield Staff", "sync"),
                                        ("Northfield Teaching Assistants", "sync")]

    # A review waits; Cancel in one tab, then Apply removals in the other.
    sync_in_process(school)
    save_settings(school.org.id, False, 1, 1)  # more than one removal needs review
    for person in (demo.OBRIEN_ID, demo.MARKUP_ID, demo.RTL_ID):
        school.sim.control.remove_member(NORTHFIELD, person)
    assert sync_in_process(school).status == m.NEEDS_REVIEW
    screen = f"{live_server}/o/{school.org.id}/settings/user-sync/"
    other_tab.goto(screen)
    page.goto(screen)
    page.get_by_role("region", name="Sync", exact=True).get_by_role("button", name="Cancel").click()
    expect(page.get_by_text("Cancelled. Nobody was added, changed or suspended.")).to_be_visible()
    card = other_tab.get_by_role("region", name="Sync", exact=True)
    card.get_by_role("button", name="Apply removals").click()
    expect(card.get_by_role("alert")).to_contain_text(
        "This review was already cancelled by you (in another tab or window) at")
    expect(card.get_by_text("Cancelled", exact=True)).to_be_visible()
    expect(other_tab.get_by_role("heading", name="Manage user sync")).to_have_count(1)
    expect(card.get_by_role("navigation")).to_have_count(0)  # no page (header, menus) inside
