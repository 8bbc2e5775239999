"""Every HTMX endpoint answers its refusals and errors with a partial or an HX-Redirect, never a
whole page that htmx would swap into a card (Cancel in one tab and Apply removals in another
once put all of Manage user sync inside the Sync card).

The endpoints are found as a browser finds them, in the templates' hx-get/hx-post attributes,
and looked up in the app's URL map; an HTMX endpoint with no refusal below fails the test.
"""
import re
from types import SimpleNamespace

from flask import url_for

from harness.factory import csrf_token_from, sign_in
from webapp.config import PROJECT_ROOT
from webapp.extensions import db
from webapp.user_sync import models as m

HTMX = {"HX-Request": "true"}
HTMX_URL = re.compile(r"""hx-(?:get|post|put|patch|delete)="\{\{\s*url_for\('([\w.]+)'"""
                      r"""|hx_endpoint='([\w.]+)'""")
TOO_LONG = "x" * 10_000


def htmx_endpoints():
    found = set()
    for template in (PROJECT_ROOT / "templates").rglob("*.html"):
        for pair in HTMX_URL.findall(template.read_text(encoding="utf-8")):
            found.add(next(name for name in pair if name))
    return found


def a_world(app, school, factory):
    """The school's admin (connected, Northfield Staff chosen), a member of the school who is
    not an admin, someone signed out, and the admin of a school never connected."""
    member = factory.user("teacher@northfield.example", [school.org])
    lone = factory.school_with_admin("Lone School", trust="Lone Trust")
    clients = {"admin": school.client}
    for name, email in (("member", member.email), ("lone", lone.user.email)):
        clients[name] = app.test_client()
        sign_in(clients[name], email)
    clients["signed out"] = app.test_client()
    review = _run(school.org.id, m.CANCELLED)  # a review another tab cancelled
    other_run = _run(lone.org.id, m.COMPLETE)
    return SimpleNamespace(school=school, lone=lone, clients=clients, review=review,
                           other_run=other_run)


def _run(organisation_id, status):
    run = m.SyncRun(organisation_id=organisation_id, status=status, reason="Cancelled.")
    db.session.add(run)
    db.session.commit()
    return run


def request(world, who, endpoint, method="GET", data=None, org=None, **values):
    """One HTMX request as `who` (with that browser's CSRF token for a POST)."""
    client = world.clients[who]
    org_id = (org or (world.lone.org if who == "lone" else world.school.org)).id
    with client.application.test_request_context():
        url = url_for(endpoint, org_id=org_id, **values)
    if method == "GET":
        return client.get(url, headers=HTMX)
    token = "expired" if who == "signed out" else csrf_token_from(
        client.get(f"/o/{org_id}/settings/user-sync/").text)
    return client.post(url, headers=HTMX, data={"csrf_token": token, **(data or {})})


def refusals(world):
    """(endpoint, what refuses it, the answer) for each refusal of each HTMX endpoint."""
    review, run_id = world.review.id, {"sync_run_id": world.review.id}
    return [
        ("microsoft.groups_page", "disconnected meanwhile",
         request(world, "lone", "microsoft.groups_page")),
        ("microsoft.save_groups", "disconnected meanwhile", request(
            world, "lone", "microsoft.save_groups", "POST", {"action": "search", "part": "choices"})),
        ("microsoft.save_groups", "a search too long", request(
            world, "admin", "microsoft.save_groups", "POST",
            {"action": "search", "part": "choices", "q": TOO_LONG})),
        ("microsoft.save_groups", "a page that is not there", request(
            world, "admin", "microsoft.save_groups", "POST",
            {"action": "page", "part": "choices", "page": "-3"})),
        ("privacy.save_retention", "days out of range", request(
            world, "admin", "privacy.save_retention", "POST", {"mode": "days", "days": "-1"})),
        ("privacy.save_retention", "changed in another tab", request(
            world, "admin", "privacy.save_retention", "POST",
            {"mode": "days", "days": "30", "version": "7"})),
        ("schedule.save", "a forged frequency", request(
            world, "admin", "schedule.save", "POST", {"frequency": "weekly", "time_of_day": ""})),
        ("schedule.save", "changed in another tab", request(
            world, "admin", "schedule.save", "POST",
            {"frequency": "off", "time_of_day": "", "version": "7"})),
        ("schedule.time_zones", "a zone that does not exist", request(
            world, "admin", "schedule.time_zones", time_zone=TOO_LONG)),
        ("troubleshooting.results", "checks that do not exist", request(
            world, "admin", "troubleshooting.results", run_id="no-such-checks")),
        ("troubleshooting.start_remote_checks", "disconnected meanwhile", request(
            world, "lone", "troubleshooting.start_remote_checks", "POST")),
        ("user_sync.apply_removals", "cancelled in another tab", request(
            world, "admin", "user_sync.apply_removals", "POST", sync_run_id=review)),
        ("user_sync.apply_removals", "a run that does not exist", request(
            world, "admin", "user_sync.apply_removals", "POST", sync_run_id=999_999)),
        ("user_sync.people_table", "a search too long", request(
            world, "admin", "user_sync.people_table", q=TOO_LONG)),
        ("user_sync.people_table", "a page that is not a number", request(
            world, "admin", "user_sync.people_table", page="abc", sort="<script>")),
        ("user_sync.preview", "not connected", request(world, "lone", "user_sync.preview", "POST")),
        ("user_sync.sync_now", "not connected", request(world, "lone", "user_sync.sync_now", "POST")),
        ("user_sync.run_status", "another school's run", request(
            world, "admin", "user_sync.run_status", sync_run_id=world.other_run.id)),
        ("user_sync.run_status", "a cancelled run", request(
            world, "admin", "user_sync.run_status", **run_id)),
        ("user_sync.why_not", "a search too long", request(
            world, "admin", "user_sync.why_not", q=TOO_LONG)),
        ("users.index", "a search too long", request(world, "admin", "users.index", q=TOO_LONG)),
        ("user_sync.sync_person", "not connected", request(
            world, "lone", "user_sync.sync_person", "POST", {"person": "jo@northfield.example"})),
        ("user_sync.sync_person", "not an address", request(
            world, "admin", "user_sync.sync_person", "POST", {"person": TOO_LONG})),
        ("user_sync.person_sync_status", "another school's run", request(
            world, "admin", "user_sync.person_sync_status", sync_run_id=world.other_run.id)),
        ("trust.schools", "a search too long", request(world, "admin", "trust.schools",
                                                        q=TOO_LONG)),
        ("trust.school_row", "a school one does not administer", request(
            world, "admin", "trust.school_row", school_id=world.lone.org.id)),
        ("trust.sync_now", "nothing selected and a forged list", request(
            world, "admin", "trust.sync_now", "POST", {"shown": "forged"})),
        ("trust.apply_schedule", "a forged frequency", request(
            world, "admin", "trust.apply_schedule", "POST", {"frequency": "weekly",
                                                              "shown": "forged"})),
        ("user_sync.connection_summary", "(only the refusals every endpoint has)", None),
    ]


def every_endpoints_refusals(world, app, endpoint):
    """Signed out (the session ended in another tab), not an admin of this school, and for a
    POST a form whose CSRF token no longer matches."""
    rule = next(app.url_map.iter_rules(endpoint))
    values = {name: {"sync_run_id": world.review.id, "run_id": "no-such-checks",
                     "school_id": world.school.oak.south.id}[name]
              for name in rule.arguments - {"org_id"}}
    method = "POST" if "POST" in rule.methods else "GET"
    answers = [(endpoint, "signed out", request(world, "signed out", endpoint, method, **values)),
               (endpoint, "not an admin here", request(world, "member", endpoint, method,
                                                       **values))]
    if method == "POST":
        client = world.clients["admin"]
        with app.test_request_context():
            url = url_for(endpoint, org_id=world.school.org.id, **values)
        answers.append((endpoint, "an expired form", client.post(
            url, headers=HTMX, data={"csrf_token": "from-an-old-session"})))
    return answers


def is_partial_or_htmx_redirect(response):
    if response.headers.get("HX-Redirect"):
        return True
    body = response.get_data(as_text=True).lower()
    return not 300 <= response.status_code < 400 and "<html" not in body and "<body" not in body


def test_every_htmx_endpoint_answers_its_refusals_with_a_partial_or_an_hx_redirect(
        app, school, factory):
    world = a_world(app, school, factory)
    endpoints = htmx_endpoints()
    assert endpoints and endpoints <= set(app.view_functions), "an hx- attribute names no route"
    cases = refusals(world)
    answers = [case for case in cases if case[2] is not None]
    covered = {endpoint for endpoint, _, _ in cases}
    assert endpoints <= covered, f"HTMX endpoints with no refusal here: {endpoints - covered}"
    for endpoint in sorted(endpoints):
        answers += every_endpoints_refusals(world, app, endpoint)
    wrong = [(endpoint, what, answer.status_code, answer.get_data(as_text=True)[:80])
             for endpoint, what, answer in answers if not is_partial_or_htmx_redirect(answer)]
    assert wrong == []
    assert len(answers) > 3 * len(endpoints)
