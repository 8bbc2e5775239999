"""The admin-consent link and Microsoft's answer to it: approved only when Microsoft sends no
error, a tenant, and the state of a link rostersync handed out ("Admin consent on the Microsoft
identity platform": the endpoint answers admin_consent=True on refusals too)."""
import urllib.parse

from tests.microsoft_flow import MicrosoftBrowser, demo, return_to_app
from webapp.microsoft.admin_consent import consent_link

WHO = "a Global Administrator or a Privileged Role Administrator"


def school_link(oak):
    return consent_link(oak.north, "http://localhost/microsoft/callback")


def test_the_schools_link_is_stable_and_carries_a_state(app, oak):
    first, again = school_link(oak), school_link(oak)
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(first).query))
    assert first == again and query["state"]
    assert query["client_id"] == demo.CLIENT_ID and "User.Read.All" in query["scope"]


def test_a_declined_approval_is_reported_as_not_approved_with_who_can_approve(app, oak, client, microsoft):
    it_admin = MicrosoftBrowser(microsoft)
    it_admin.open(school_link(oak))
    it_admin.sign_in_as(demo.ADMIN_UPN, accept_consent=False)
    answer = it_admin.click("Cancel")
    assert "admin_consent=True" in answer and "error=consent_required" in answer
    page = return_to_app(client, answer)
    assert page.status_code == 200
    assert "rostersync was not approved" in page.text and "is approved" not in page.text
    assert "the approval was declined" in page.text and WHO in page.text
    assert 'id="consent-link"' in page.text and "AADSTS65004" in page.text


def test_an_account_that_may_not_approve_is_told_so(app, oak, client, microsoft):
    teacher = MicrosoftBrowser(microsoft)
    teacher.open(school_link(oak))
    page = teacher.sign_in_as(demo.PERSONAL_UPN)
    assert "Need admin approval" in page.text
    answer = return_to_app(client, teacher.click("Return to the application without granting consent"))
    assert "rostersync was not approved" in answer.text
    assert "not allowed to approve apps for the whole organisation" in answer.text and WHO in answer.text


def test_an_answer_without_a_tenant_or_with_a_state_we_never_issued_is_not_approval(app, oak, client):
    state = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(school_link(oak)).query))["state"]
    no_tenant = client.get(f"/microsoft/callback?admin_consent=True&state={state}")
    assert no_tenant.status_code == 400 and "We could not confirm the approval" in no_tenant.text
    forged = client.get(f"/microsoft/callback?admin_consent=True&tenant={demo.TENANT_ID}&state=made-up")
    assert forged.status_code == 400 and "does not match an approval link" in forged.text
    assert "is approved" not in forged.text


def test_an_approval_through_the_schools_link_is_confirmed_for_that_school(app, oak, client, microsoft):
    it_admin = MicrosoftBrowser(microsoft)
    it_admin.open(school_link(oak))
    it_admin.sign_in_as(demo.ADMIN_UPN, accept_consent=False)
    page = return_to_app(client, it_admin.click("Accept"))
    assert page.status_code == 200
    assert "rostersync is approved for your organisation" in page.text
    assert "approval for Northfield Academy" in page.text
