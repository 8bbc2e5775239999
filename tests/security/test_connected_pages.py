"""Every page again, once the school is connected and a group chosen: real content, same rules."""
from flask import url_for

from harness.factory import post_form, sign_in
from tests.microsoft_flow import connect_organisation, demo, oak_trust, run_quick_jobs
from tests.security.pages import assert_safe_page
from tests.security.test_authorization_matrix import SERVED


def connected_school(app, factory, microsoft):
    oak = oak_trust(factory)
    client = app.test_client()
    sign_in(client, oak.admin.email)
    assert connect_organisation(client, oak.north, microsoft).status_code == 302
    run_quick_jobs(app)  # the group snapshot the picker lists
    picker = f"/o/{oak.north.id}/settings/user-sync/import/microsoft/groups"
    saved = post_form(client, picker, {"sync": demo.NORTHFIELD_STAFF_GROUP_ID, "action": "save"}, page_url=picker)
    assert saved.status_code in (302, 303)
    return oak, client


def test_every_page_of_a_connected_school_is_safe(app, factory, microsoft):
    oak, client = connected_school(app, factory, microsoft)
    pages = [(endpoint, args) for endpoint, method, args in SERVED
             if method == "GET" and set(args) <= {"org_id"}]
    seen = 0
    for endpoint, args in pages:
        with app.test_request_context():
            url = url_for(endpoint, **({"org_id": oak.north.id} if args else {}))
        for headers in ({}, {"HX-Request": "true"}):
            response = client.get(url, headers=headers)
            assert response.status_code < 500, (url, response.status_code)
            assert_safe_page(response, f"GET {url} {headers}")
            seen += 1
    assert seen >= 2 * len(pages) > 10
