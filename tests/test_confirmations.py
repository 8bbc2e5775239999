"""Destructive buttons ask first, on a page that works without JavaScript and names the
consequence: Disconnect lists every school of the trust it cuts off; Remove says when the next
sync adds the person back, and offers Exclude from sync, which is what keeps them out."""
import re

from harness.factory import csrf_token_from
from tests.sync_helpers import sync_in_process
from webapp.extensions import db
from webapp.microsoft.models import MicrosoftConnection
from webapp.orgs.models import Membership
from webapp.user_sync.models import SyncedPerson

OBRIEN_EMAIL = "s.o'brien@oaklearning.example"


def import_url(org):
    return f"/o/{org.id}/settings/user-sync/import/microsoft"


def users_url(org):
    return f"/o/{org.id}/settings/users/"


def test_disconnect_is_a_link_to_a_page_naming_every_school_it_cuts_off(school):
    page = school.client.get(import_url(school.org)).text
    assert f'href="{import_url(school.org)}/disconnect"' in page
    assert f'action="{import_url(school.org)}/disconnect"' not in page  # no one-click form
    confirm = school.client.get(f"{import_url(school.org)}/disconnect")
    assert confirm.status_code == 200
    for text in ("Disconnect every school from Microsoft?", "Oak Learning Trust",
                 "Northfield Academy", "Southfield Primary", "all 2 of them",
                 "People already synced stay as they are", ">Disconnect 2 schools</button>"):
        assert text in confirm.text, text
    assert db.session.query(MicrosoftConnection).count() == 1  # asking changed nothing


def test_a_disconnect_post_without_the_confirmation_only_asks(school):
    page = school.client.get(import_url(school.org)).text
    answer = school.client.post(f"{import_url(school.org)}/disconnect",
                                data={"csrf_token": csrf_token_from(page)})
    assert answer.status_code == 303 and answer.location.endswith("/disconnect")
    assert db.session.query(MicrosoftConnection).count() == 1


def test_confirming_disconnect_disconnects(school):
    confirm = school.client.get(f"{import_url(school.org)}/disconnect").text
    done = school.client.post(f"{import_url(school.org)}/disconnect", follow_redirects=True, data={
        "csrf_token": csrf_token_from(confirm), "confirmed": "1"})
    assert "Disconnected from Microsoft" in done.text
    assert db.session.query(MicrosoftConnection).count() == 0


def synced_membership(school, email):
    row = db.session.query(SyncedPerson).filter_by(organisation_id=school.org.id,
                                                   email_normalised=email).one()
    return row, db.session.get(Membership, row.membership_id) if row.membership_id else None


def remove_page(school, membership):
    return school.client.get(f"{users_url(school.org)}{membership.id}/remove")


def confirm_removal(school, membership):
    page = remove_page(school, membership).text
    return school.client.post(f"{users_url(school.org)}{membership.id}/remove",
                              data={"csrf_token": csrf_token_from(page), "confirmed": "1"},
                              follow_redirects=True)


def test_remove_warns_that_the_next_sync_adds_a_synced_person_back_and_it_does(school):
    sync_in_process(school)
    row, membership = synced_membership(school, OBRIEN_EMAIL)
    listing = school.client.get(users_url(school.org) + "?q=brien").text
    assert f'href="{users_url(school.org)}{membership.id}/remove"' in listing
    page = remove_page(school, membership).text
    assert "Remove Siobhán O&#39;Brien from Northfield Academy?" in page
    assert "The next sync adds Siobhán O&#39;Brien back." in page
    assert "still in the group “Northfield Staff”" in page
    assert re.search(r'action="[^"]+/people/%d/exclude"' % row.id, page)
    assert ">Exclude from sync</button>" in page
    assert db.session.get(Membership, membership.id) is not None  # asking changed nothing

    assert "Removed Siobhán O&#39;Brien" in confirm_removal(school, membership).text
    sync_in_process(school)  # ...and the page was right: the sync adds her back
    _, back = synced_membership(school, OBRIEN_EMAIL)
    assert back is not None and back.status == "active"


def test_exclude_from_sync_on_the_remove_page_keeps_the_person_out(school):
    sync_in_process(school)
    row, membership = synced_membership(school, OBRIEN_EMAIL)
    page = remove_page(school, membership).text
    excluded = school.client.post(f"/o/{school.org.id}/settings/user-sync/people/{row.id}/exclude",
                                  data={"csrf_token": csrf_token_from(page),
                                        "next": f"{users_url(school.org)}{membership.id}/remove"},
                                  follow_redirects=True)
    assert "is excluded from sync, so the next sync will not add them back" in excluded.text
    assert "The next sync adds" not in excluded.text
    confirm_removal(school, membership)
    sync_in_process(school)
    _, after = synced_membership(school, OBRIEN_EMAIL)
    assert after is None


def test_removing_someone_added_by_hand_says_nothing_about_sync(admin_client, admin, factory):
    user = factory.user("helper@school.example", [admin.org], name="Helpful Parent")
    page = admin_client.get(f"{users_url(admin.org)}{user.memberships[0].id}/remove").text
    assert "Remove Helpful Parent from" in page and "next sync" not in page
    assert ">Remove Helpful Parent</button>" in page and "Cancel" in page


def test_a_remove_post_without_the_confirmation_only_asks(admin_client, admin, factory):
    user = factory.user("stays@school.example", [admin.org])
    membership_id = user.memberships[0].id
    page = admin_client.get(users_url(admin.org)).text
    answer = admin_client.post(f"{users_url(admin.org)}{membership_id}/remove",
                               data={"csrf_token": csrf_token_from(page)})
    assert answer.status_code == 303 and answer.location.endswith(f"/{membership_id}/remove")
    assert db.session.get(Membership, membership_id) is not None
