"""Whatever Microsoft sends about a person is data: markup, script, formulas, very long text,
right-to-left text and missing fields render escaped, never break a page, and never run as a
formula in the CSV export."""
import csv
import io

import pytest

from tests.sync_helpers import NORTHFIELD, people, shared_connected_school, sync_in_process
from tests.security.pages import assert_safe_page
from webapp.user_sync import models as m

SCRIPT = '<script>alert("owned")</script>'
IMG = '"><img src=x onerror=alert(1)>'
LONG = "Very Long Name " * 400  # 6,000 characters
RTL = "ليلى \u202egnp.exe\u202c حداد"
FORMULAS = ['=HYPERLINK("https://evil.example","Click")', "+SUM(1,2)", "-2+3*cmd|' /C calc'!A0",
            "@SUM(1,2)", "\t=1+1", "\r=1+1"]

HOSTILE_PEOPLE = [
    dict(userPrincipalName="script@oaklearning.example", displayName=SCRIPT, jobTitle=IMG,
         department=FORMULAS[0]),
    dict(userPrincipalName="long@oaklearning.example", displayName=LONG, jobTitle=LONG,
         department=LONG),
    dict(userPrincipalName="rtl@oaklearning.example", displayName=RTL, jobTitle=FORMULAS[1],
         department=FORMULAS[2]),
    dict(userPrincipalName="nulls@oaklearning.example", displayName=FORMULAS[3], mail=None,
         jobTitle=None, department=None),
    dict(userPrincipalName="tabs@oaklearning.example", displayName=FORMULAS[4],
         jobTitle=FORMULAS[5], department="<b>bold</b> & \"quoted\""),
    dict(userPrincipalName="nul@oaklearning.example", displayName="Nul\x00 Byte",
         jobTitle="\x00", department="Science"),
]
HOSTILE_MARKUP = (SCRIPT, "<img src=x", "<b>bold</b>", "<b>Ms</b>", "<i>Teacher</i>")


@pytest.fixture
def hostile_school(app, factory, client, microsoft):
    for fields in HOSTILE_PEOPLE:
        user_id = microsoft.control.create_user(**fields)
        microsoft.control.add_member(NORTHFIELD, user_id)
    school = shared_connected_school(factory, client, microsoft)
    school.run = sync_in_process(school)
    assert school.run.status == m.COMPLETE, school.run.reason
    return school


def pages_of(school, run):
    base = f"/o/{school.org.id}/settings/user-sync"
    return [f"{base}/", f"{base}/?q=script", f"{base}/?q=%3Cscript%3E", f"{base}/?sort=job_title",
            f"{base}/history", f"{base}/runs/{run.id}", f"{base}/why?q=script",
            f"{base}/why?q={SCRIPT}", f"/o/{school.org.id}/settings/users/",
            f"/o/{school.org.id}/settings/users/?q=%3Cscript"]


def test_hostile_names_and_titles_sync_and_render_escaped_on_every_page(hostile_school):
    synced = {p.email: p for p in people(hostile_school.org)}
    assert {"script@oaklearning.example", "long@oaklearning.example", "rtl@oaklearning.example",
            "tabs@oaklearning.example"} <= set(synced)
    assert synced["script@oaklearning.example"].display_name == SCRIPT  # stored as sent
    # Past Microsoft's own 256-character limit: cut there.
    assert synced["long@oaklearning.example"].display_name == LONG.strip()[:m.NAME_LIMIT]
    assert synced["nul@oaklearning.example"].display_name == "Nul Byte"
    again = sync_in_process(hostile_school)  # clipped values compare equal: no endless updates
    assert again.status == m.COMPLETE and again.updated == 0
    people_table = f"/o/{hostile_school.org.id}/settings/user-sync/people?q=long"
    visits = [(url, {}) for url in pages_of(hostile_school, hostile_school.run)]
    visits += [(url, {"HX-Request": "true"}) for url, _ in visits + [(people_table, {})]]
    for url, headers in visits:
        response = hostile_school.client.get(url, headers=headers)
        assert response.status_code == 200, (url, headers, response.status_code)
        assert_safe_page(response, url)
        for markup in HOSTILE_MARKUP:
            assert markup not in response.text, (url, markup)
    page = hostile_school.client.get(f"/o/{hostile_school.org.id}/settings/user-sync/?q=script")
    assert "&lt;script&gt;alert(&#34;owned&#34;)&lt;/script&gt;" in page.text


def test_the_csv_export_neutralises_formulas_and_keeps_every_person(hostile_school):
    response = hostile_school.client.get(
        f"/o/{hostile_school.org.id}/settings/user-sync/people.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True), newline="")))
    header, body = rows[0], rows[1:]
    assert len(body) == len(people(hostile_school.org))
    assert all(len(row) == len(header) for row in body)
    for row in body:
        for cell in row:
            assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r"), (row, cell)
    cells = {cell for row in body for cell in row}
    for formula in FORMULAS:  # leading whitespace may be trimmed at sync; the guard stays
        assert "'" + formula in cells or "'" + formula.strip() in cells, formula
    assert SCRIPT in cells and RTL in cells  # data, kept as sent


def test_a_person_with_no_display_name_or_mail_still_syncs(app, factory, client, microsoft):
    user_id = microsoft.control.create_user(userPrincipalName="blank@oaklearning.example",
                                            displayName=None, mail=None, jobTitle=None)
    microsoft.control.add_member(NORTHFIELD, user_id)
    school = shared_connected_school(factory, client, microsoft)
    assert sync_in_process(school).status == m.COMPLETE
    page = school.client.get(f"/o/{school.org.id}/settings/user-sync/?q=blank")
    assert page.status_code == 200 and "blank@oaklearning.example" in page.text
