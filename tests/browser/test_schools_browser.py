"""The trust's view in Chromium, by accessible names: a trust admin with three schools (one
failing, one waiting for review, one fine) reaches Schools from Settings, sees Needs attention
list the two, ticks them, presses Sync now and watches their rows change as the syncs run, then
gives all three Every day at 02:00 and sees Next automatic sync in each row. axe-core finds no
WCAG 2.2 AA violation at 1280 and 768 wide. One test function: one browser start-up.

The trust is connected through real MSAL to the Microsoft simulator; the schools' states come
from real syncs (a deleted group fails one, leavers above the safety limit stop another).
"""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.browser.test_first_hour import VIEWPORTS, assert_accessible, assert_fits_the_viewport
from tests.microsoft_flow import demo
from tests.sync_helpers import connected_school, people, sync_in_process
from webapp.extensions import db
from webapp.microsoft.selection import choose_group
from webapp.microsoft.services import graph_client_for
from webapp.user_sync import models as m
from webapp.user_sync.engine.run import run_sync
from webapp.user_sync.settings import save_settings

pytestmark = pytest.mark.backends("postgresql")


def three_schools(factory, client, microsoft):
    """Northfield fine, Southfield waiting for review, Oak Sixth Form failing."""
    school = connected_school(factory, client, microsoft)
    south, sixth = school.oak.south, factory.organisation("Oak Sixth Form", "Oak Learning Trust")
    factory.user(school.admin.email, [sixth], role="admin")
    graph = graph_client_for(school.connection)
    choose_group(south, school.admin, demo.SOUTHFIELD_STAFF_GROUP_ID, graph)
    choose_group(sixth, school.admin, demo.NORTHFIELD_TA_GROUP_ID, graph)
    for org in (school.org, south, sixth):
        assert sync_in_process(_as(school, org)).status == m.COMPLETE
    save_settings(south.id, False, 1, 1)  # more than one removal needs review
    school.removed = [leaver.microsoft_id for leaver in people(south, status="active")[:2]]
    for microsoft_id in school.removed:
        microsoft.control.remove_member(demo.SOUTHFIELD_STAFF_GROUP_ID, microsoft_id)
    assert sync_in_process(_as(school, south)).status == m.NEEDS_REVIEW
    microsoft.control.delete_group(demo.NORTHFIELD_TA_GROUP_ID)
    assert sync_in_process(_as(school, sixth)).status == m.FAILED
    school.south, school.sixth = south, sixth
    return school


def _as(school, org):
    return type("School", (), {"org": org, "admin": school.admin})


def row_of(page, name):
    return page.get_by_role("row").filter(has=page.get_by_role("link", name=name, exact=True))


def test_a_trust_admin_finds_what_needs_attention_syncs_it_and_schedules_every_school(
        app, factory, client, microsoft, live_server, browser_page):
    school = three_schools(factory, client, microsoft)
    page = browser_page
    page.set_viewport_size(VIEWPORTS["laptop"])
    sign_in(page, live_server, school.admin.email)
    page.goto(f"{live_server}/o/{school.org.id}/settings")
    page.get_by_role("link", name="Schools", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Schools")
    expect(page.get_by_role("link", name="All schools", exact=True)).to_be_visible()  # header

    counts = page.get_by_role("navigation", name="Schools by status")
    expect(counts.get_by_role("link", name="Needs attention (2)")).to_have_attribute(
        "aria-current", "true")
    expect(counts).to_contain_text("1 needs review · 1 failing · 1 OK")
    table = page.get_by_role("table", name=re.compile("^Schools"))
    expect(table.get_by_role("row")).to_have_count(3)  # the header and the two
    expect(row_of(page, "Southfield Primary")).to_contain_text("Needs review: would suspend 2")
    expect(row_of(page, "Oak Sixth Form")).to_contain_text(re.compile(r"Failing since \d+ \w+ \d{4}"))
    for width in ("laptop", "tablet"):
        page.set_viewport_size(VIEWPORTS[width])
        assert_accessible(page, f"Schools, needs attention ({width})")
        assert_fits_the_viewport(page, f"Schools ({width})")
    page.set_viewport_size(VIEWPORTS["laptop"])

    page.get_by_role("checkbox", name="Select Southfield Primary").check()
    page.get_by_role("checkbox", name="Select Oak Sixth Form").check()
    page.get_by_role("button", name="Sync now").click()
    expect(page.get_by_role("status").filter(has_text="Sync now: done for 2 schools")).to_be_visible()
    for name in ("Southfield Primary", "Oak Sixth Form"):
        expect(row_of(page, name)).to_contain_text("Sync queued")
        expect(row_of(page, name)).to_contain_text("Waiting for a worker")
    assert_accessible(page, "Schools after Sync now")
    # Southfield's two were removed from its group by mistake and are back; a worker takes
    # both syncs, and each row refreshes itself when its run has ended.
    for microsoft_id in school.removed:
        microsoft.control.add_member(demo.SOUTHFIELD_STAFF_GROUP_ID, microsoft_id)
    db.session.expire_all()
    queued = db.session.scalars(db.select(m.SyncRun).where(m.SyncRun.status == m.QUEUED)).all()
    assert {run.organisation_id for run in queued} == {school.south.id, school.sixth.id}
    for run in queued:
        run_sync(run.id)
    for name in ("Southfield Primary", "Oak Sixth Form"):
        expect(row_of(page, name)).not_to_contain_text("Waiting for a worker", timeout=15_000)
    expect(row_of(page, "Southfield Primary")).to_contain_text("OK")
    expect(row_of(page, "Oak Sixth Form")).to_contain_text("Failing since")

    page.get_by_role("link", name="All schools (3)").click()
    expect(page).to_have_url(re.compile(r"status=all"))
    page.get_by_role("checkbox", name="Select every school on this page").check()
    for name in ("Northfield Academy", "Southfield Primary", "Oak Sixth Form"):
        expect(page.get_by_role("checkbox", name=f"Select {name}")).to_be_checked()
    page.get_by_label("Sync automatically").select_option(label="Every day")
    page.get_by_label("Time of day").fill("02:00")
    page.get_by_role("button", name="Apply schedule").click()
    expect(page.get_by_role("status").filter(has_text="Apply schedule: done for 3 schools")).to_be_visible()
    for name in ("Northfield Academy", "Southfield Primary", "Oak Sixth Form"):
        row = row_of(page, name)
        expect(row).to_contain_text("Schedule saved.")
        expect(row).to_contain_text(re.compile(r"\d+ \w{3} \d{4}, 02:[0-2]\d (GMT|BST)"))
    expect(page.get_by_role("columnheader", name=re.compile("Next automatic sync"))).to_be_visible()
    for width in ("laptop", "tablet"):
        page.set_viewport_size(VIEWPORTS[width])
        assert_accessible(page, f"Schools, all schools after Apply schedule ({width})")
        assert_fits_the_viewport(page, f"Schools after Apply schedule ({width})")
