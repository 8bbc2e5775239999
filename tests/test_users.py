"""Manage users, organisation scoping and the role matrix."""
import pytest

from harness.factory import post_form
from tests.statements import statements_sent
from webapp.microsoft.models import RECONNECT_NEEDED, MicrosoftConnection
from webapp.orgs.models import Membership
from webapp.orgs.services import find_user_by_email


def users_url(org):
    return f"/o/{org.id}/settings/users/"


def test_admin_lists_people_with_name_email_role_source_and_status(admin_client, admin, factory):
    factory.user("teacher@school.example", [admin.org], name="Ada Teacher")
    html = admin_client.get(users_url(admin.org)).text
    for text in ("Ada Teacher", "teacher@school.example", "Member", "Manual", "Active"):
        assert text in html


@pytest.mark.both_databases
def test_search_is_server_side_and_htmx_gets_only_the_table(admin_client, admin, factory):
    factory.user("alpha@school.example", [admin.org], name="Alpha One")
    factory.user("beta@school.example", [admin.org], name="Beta Two")
    response = admin_client.get(users_url(admin.org) + "?q=alpha", headers={"HX-Request": "true"})
    assert "Alpha One" in response.text and "Beta Two" not in response.text
    assert "<html" not in response.text


@pytest.mark.both_databases
def test_people_are_paginated(admin_client, admin, factory):
    for n in range(30):
        factory.user(f"p{n:02d}@school.example", [admin.org], name=f"Person {n:02d}")
    first = admin_client.get(users_url(admin.org)).text
    second = admin_client.get(users_url(admin.org) + "?page=2").text
    assert "Page 1 of 2" in first and "Person 00" in first and "Person 29" not in first
    assert "Person 29" in second


def test_a_page_of_people_costs_the_same_statements_whatever_its_rows(admin_client, admin,
                                                                       factory):
    """Each row's account comes with the page's one query, not a query a row (25 a page)."""
    def statements_for_page():
        with statements_sent() as sent:
            assert admin_client.get(users_url(admin.org)).status_code == 200
        return len(sent)

    first = statements_for_page()
    for n in range(3):
        factory.user(f"p{n}@school.example", [admin.org], name=f"Person {n}")
    assert statements_for_page() == first


def test_adding_an_existing_email_adds_a_membership_not_an_account(admin_client, admin, factory, db):
    other = factory.organisation("Other School")
    factory.user("shared@school.example", [other], name="Shared Person")
    response = post_form(admin_client, users_url(admin.org), {
        "email": "SHARED@school.example", "display_name": "Shared", "role": "member"})
    assert response.status_code == 302
    user = find_user_by_email("shared@school.example")
    assert {m.organisation.name for m in user.memberships} == {"Other School", admin.org.name}
    assert db.session.query(Membership).join(Membership.user).filter_by(
        email_normalised="shared@school.example").count() == 2


def test_admin_changes_a_role_and_removes_a_person(admin_client, admin, factory, db):
    user = factory.user("mover@school.example", [admin.org])
    membership_id = user.memberships[0].id
    post_form(admin_client, f"{users_url(admin.org)}{membership_id}/role", {"role": "admin"})
    assert db.session.get(Membership, membership_id).role == "admin"
    post_form(admin_client, f"{users_url(admin.org)}{membership_id}/remove", {"confirmed": "1"})
    assert db.session.get(Membership, membership_id) is None


def test_the_last_admin_can_be_neither_demoted_nor_removed(admin_client, admin, db):
    membership = admin.user.memberships[0]
    demoted = post_form(admin_client, f"{users_url(admin.org)}{membership.id}/role",
                        {"role": "member"}, follow_redirects=True)
    assert "last admin" in demoted.text
    removed = post_form(admin_client, f"{users_url(admin.org)}{membership.id}/remove",
                        {"confirmed": "1"}, follow_redirects=True)
    assert "last admin" in removed.text
    assert db.session.get(Membership, membership.id).role == "admin"


def test_a_refused_add_or_role_change_comes_back_as_sent_with_the_reason(admin_client, admin,
                                                                         db):
    refused = post_form(admin_client, users_url(admin.org), {
        "email": "not-an-address", "display_name": "Ann Other", "role": "admin"})
    assert refused.status_code == 422
    assert 'id="new-email-error">Enter a valid email address' in refused.text  # by its field
    email_field = refused.text.split('id="new-email"', 1)[1].split(">", 1)[0]
    assert 'value="not-an-address"' in email_field and 'aria-invalid="true"' in email_field
    assert 'value="Ann Other"' in refused.text.split('id="new-name"', 1)[1].split(">", 1)[0]
    assert '<option value="admin" selected>Admin</option>' in refused.text
    forged = post_form(admin_client, users_url(admin.org), {
        "email": "ann@school.example", "display_name": "Ann", "role": "owner"})
    assert forged.status_code == 422 and 'value="ann@school.example"' in forged.text
    assert '<option value="member" selected>Member</option>' in forged.text  # not a third thing
    own = admin.user.memberships[0]
    demoted = post_form(admin_client, f"{users_url(admin.org)}{own.id}/role", {"role": "member"})
    assert demoted.status_code == 422
    row = demoted.text.split(f'id="role-{own.id}"', 1)[1].split("</form>", 1)[0]
    assert '<option value="member" selected>Member</option>' in row  # as the admin left it
    assert "is the last admin" in row and "Nothing was saved." in row
    assert db.session.get(Membership, own.id).role == "admin"


def test_a_membership_of_another_organisation_cannot_be_touched(admin_client, admin, factory, db):
    other = factory.school_with_admin("Elsewhere", trust="Another Trust")
    target = other.user.memberships[0]
    response = post_form(admin_client, f"{users_url(admin.org)}{target.id}/remove",
                         {"confirmed": "1"})
    assert response.status_code == 404
    assert db.session.get(Membership, target.id) is not None


def test_person_in_several_organisations_switches_from_the_header(client, factory, sign_in):
    first = factory.organisation("Alpha Academy", "Trust A")
    second = factory.organisation("Beta Academy", "Trust A")
    factory.user("both@school.example", [first, second], role="admin")
    sign_in(client, "both@school.example")
    home = client.get("/", follow_redirects=True).text
    assert 'id="org-switcher"' in home and "Beta Academy" in home
    response = post_form(client, "/switch-organisation", {"org_id": second.id})
    assert response.headers["Location"] == f"/o/{second.id}/"
    assert "Beta Academy" in client.get(f"/o/{second.id}/").text


@pytest.mark.parametrize("on, lands_on", [
    ("/o/{a}/settings/user-sync/", "/o/{b}/settings/user-sync/"),
    ("/o/{a}/settings/user-sync/history", "/o/{b}/settings/user-sync/history"),
    ("/o/{a}/settings/users/", "/o/{b}/settings/users/"),
    ("/o/{a}/settings/user-sync/runs/12345", "/o/{b}/settings/user-sync/"),  # a's run only
    ("/o/{a}/settings/users/999/remove", "/o/{b}/settings/users/"),
    ("/login", "/o/{b}/"),
    ("https://elsewhere.example/o/{a}/settings", "/o/{b}/"),
])
def test_the_organisation_switcher_keeps_the_same_page(client, factory, sign_in, on, lands_on):
    first = factory.organisation("Alpha Academy", "Trust A")
    second = factory.organisation("Beta Academy", "Trust A")
    factory.user("both@school.example", [first, second], role="admin")
    sign_in(client, "both@school.example")
    page = client.get(f"/o/{first.id}/settings/user-sync/").text
    assert '<input type="hidden" name="next" value="/o/%d/settings/user-sync/">' % first.id in page
    response = post_form(client, "/switch-organisation",
                         {"org_id": second.id, "next": on.format(a=first.id)})
    assert response.headers["Location"] == lands_on.format(b=second.id)
    assert client.get(response.headers["Location"]).status_code == 200


def test_switching_to_a_school_where_one_is_no_admin_lands_on_its_home(client, factory, sign_in):
    first = factory.organisation("Alpha Academy", "Trust A")
    second = factory.organisation("Beta Academy", "Trust A")
    user = factory.user("half@school.example", [first], role="admin")
    factory.user(user.email, [second], role="member")
    sign_in(client, user.email)
    response = post_form(client, "/switch-organisation",
                         {"org_id": second.id, "next": f"/o/{first.id}/settings/users/"})
    assert response.headers["Location"] == f"/o/{second.id}/"


ROUTES = ["/o/{org}/", "/o/{org}/settings", "/o/{org}/settings/users/",
          "/o/{org}/settings/user-sync/"]
ADMIN_ONLY = {"/o/{org}/settings", "/o/{org}/settings/users/", "/o/{org}/settings/user-sync/"}


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("who", ["anonymous", "member", "admin", "other_org_admin",
                                 "other_trust_admin"])
def test_role_matrix(client, factory, sign_in, route, who):
    school = factory.school_with_admin("Home School", trust="Trust One")
    sibling = factory.school_with_admin("Sibling School", trust="Trust One")
    stranger = factory.school_with_admin("Far School", trust="Trust Two")
    member = factory.user("member@school.example", [school.org])
    signed_in = {"member": member, "admin": school.user, "other_org_admin": sibling.user,
                 "other_trust_admin": stranger.user}.get(who)
    if signed_in:
        sign_in(client, signed_in.email)
    response = client.get(route.format(org=school.org.id))
    if who == "anonymous":
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    elif who == "admin" or (who == "member" and route not in ADMIN_ONLY):
        assert response.status_code == 200
    else:
        assert response.status_code == 404
        if who != "member":
            assert "Home School" not in response.text


def test_unknown_organisation_is_404_like_a_foreign_one(admin_client):
    assert admin_client.get("/o/999999/settings").status_code == 404


@pytest.mark.backends("sqlite")  # SQLite stores any length, so it is where a missing limit shows
def test_a_10000_character_name_or_10010_character_email_is_refused_by_its_field(
        admin_client, admin, app):
    long_email = "x" * 10_000 + "@school.example"
    for sent, field, message in (
            ({"email": "long.name@school.example", "display_name": "N" * 10_000}, "new-name",
             "Enter a name of at most 255 characters; this one has 10,000."),
            ({"email": long_email, "display_name": "Long Email"}, "new-email",
             "An email address has at most 254 characters; this one has 10,015.")):
        response = post_form(admin_client, users_url(admin.org), {**sent, "role": "admin"},
                             page_url=users_url(admin.org))
        assert response.status_code == 422
        html = response.text
        assert f'<p class="field-error" id="{field}-error">{message}' in html
        assert f'aria-describedby="{field}-hint {field}-error" aria-invalid="true"' in html
        assert f'value="{sent["display_name"]}"' in html and f'value="{sent["email"]}"' in html
        assert '<option value="admin" selected>' in html  # the form as it was sent
        assert find_user_by_email(sent["email"]) is None  # nothing saved
    page = admin_client.get(users_url(admin.org)).text
    assert 'maxlength="254"' in page and "At most 254 characters." in page
    assert 'maxlength="255"' in page and "At most 255 characters." in page
    result = app.test_cli_runner().invoke(args=["user", "create", long_email, "--org",
                                                admin.org.name])
    assert result.exit_code != 0 and "at most 254 characters" in result.output


def test_an_htmx_partial_reads_neither_the_header_schools_nor_the_reconnect_banner(
        client, factory, sign_in, db):
    """The header's school switcher and the reconnect banner are read by the page that shows
    them, not by every HTMX partial (a trust admin's Schools rows poll every few seconds)."""
    first = factory.organisation("Alpha Academy", "Trust A")
    second = factory.organisation("Beta Academy", "Trust A")
    factory.user("both@school.example", [first, second], role="admin")
    db.session.add(MicrosoftConnection(
        trust_id=first.trust_id, account_email="it@trust-a.example", account_object_id="admin",
        tenant_id="tenant", home_account_id="admin.tenant", status=RECONNECT_NEEDED))
    db.session.commit()
    sign_in(client, "both@school.example")
    url = f"/o/{first.id}/settings/users/?q=both"
    with statements_sent() as page_sent:
        page = client.get(url).text
    assert 'id="org-switcher"' in page and "Beta Academy" in page and "All schools" in page
    assert "Reconnect needed:" in page and "it@trust-a.example" in page
    with statements_sent() as partial_sent:
        partial = client.get(url, headers={"HX-Request": "true"}).text
    assert "both@school.example" in partial and "org-switcher" not in partial
    header_and_banner = [sql for sql in page_sent if "FROM microsoft_connections" in sql
                         or "organisations.name, memberships.role" in sql]  # orgs.schools_of
    assert len(header_and_banner) == 2, page_sent
    assert not set(header_and_banner) & set(partial_sent), partial_sent
    assert len(partial_sent) == len(page_sent) - 2
