"""Sign in with Microsoft and a school's "Admins must use two-step verification": a Microsoft
sign-in stands in for two-step only when the Microsoft account is of the tenant every school
that asks it of the admin is connected to (their Microsoft policies govern it). A Microsoft
account of any other tenant (one the admin linked themselves) is treated as a password is: the
second step when two-step is on, set-up when it is not.

The simulator has one tenant, the demo trust's. "Another tenant" is therefore told from the
school's side: Hill School is connected to a tenant of its own, so the demo tenant's accounts
are, for Hill School, a tenant it does not control."""
import json

import pytest
from sqlalchemy import select

from tests.accounts.helpers import audit_count
from tests.accounts.test_microsoft_sign_in import link_from_security_page, sign_in_with_microsoft
from tests.accounts.two_step_helpers import (MOMENT, code_at, give_code, is_signed_in,
                                             signed_in, text_of, turn_on_app)
from tests.microsoft_flow import demo
from webapp.audit import actions
from webapp.audit.models import AuditEntry
from webapp.auth.models import AccountSession, MicrosoftSignInLink
from webapp.clock import frozen_at
from webapp.extensions import db
from webapp.microsoft.models import MicrosoftConnection
from webapp.two_step.models import TwoStepPolicy

SET_UP = "/account/security/two-step/set-up"
HILL_TENANT = "5d1e7c3a-9b2f-4a60-8e4d-1c2b3a4d5e6f"  # not the simulator's demo tenant


def connect_to_own_tenant(org, tenant_id=HILL_TENANT):
    """The school's own Microsoft connection, to a tenant that is not the simulator's."""
    db.session.add(MicrosoftConnection(
        organisation_id=org.id, account_email=f"it@{org.id}.example", account_object_id="object-1",
        tenant_id=tenant_id, home_account_id=f"object-1.{tenant_id}"))
    db.session.commit()


def require_two_step(*orgs):
    for org in orgs:
        db.session.add(TwoStepPolicy(organisation_id=org.id, admins_must_use_two_step=True))
    db.session.commit()


def latest_session():
    return db.session.scalar(select(AccountSession).order_by(AccountSession.id.desc()))


def latest_sign_in_audit():
    return json.loads(db.session.scalar(select(AuditEntry.after).where(
        AuditEntry.action == actions.SIGN_IN).order_by(AuditEntry.id.desc())))


@pytest.fixture
def hill(app, microsoft, head):
    """Hill School (connected to its own tenant, the policy on) and its head, who linked a
    Microsoft account of the simulator's tenant from Sign-in and security."""
    org = head.memberships[0].organisation
    connect_to_own_tenant(org)
    client = signed_in(app)
    assert link_from_security_page(client, microsoft, demo.PERSONAL_UPN).status_code == 303
    require_two_step(org)
    microsoft.control.reset()
    return org, client


def test_an_admin_with_a_microsoft_account_of_another_tenant_is_sent_to_set_up_two_step(
        app, microsoft, head, hill):
    org, _ = hill
    head.password_hash = None  # Microsoft is their only way in: they can still set two-step up
    db.session.commit()
    client, answer = sign_in_with_microsoft(app, microsoft, demo.PERSONAL_UPN)
    assert answer.location == SET_UP
    for url in ("/", f"/o/{org.id}/", f"/o/{org.id}/settings/users/", "/account/security/"):
        assert client.get(url).location == SET_UP, url
    row = latest_session()
    assert (row.method, row.microsoft_tenant_id) == ("microsoft", demo.TENANT_ID)
    page = text_of(client.get(SET_UP))
    assert "Hill School requires admins to use two-step verification" in page
    assert "Set up authenticator app" in page and "Set one on" not in page
    with frozen_at(MOMENT):
        turn_on_app(client)
        assert client.get(f"/o/{org.id}/").status_code == 200


def test_an_admin_with_two_step_gives_the_second_step_after_microsoft_of_another_tenant(
        app, microsoft, head, hill):
    org, password_client = hill
    with frozen_at(MOMENT):
        key, _ = turn_on_app(password_client)
        sessions_before = db.session.scalar(select(AccountSession.id).order_by(
            AccountSession.id.desc()))
        client, answer = sign_in_with_microsoft(app, microsoft, demo.PERSONAL_UPN,
                                                f"/o/{org.id}/")
        assert answer.location == "/login/two-step"
        assert not is_signed_in(client) and latest_session().id == sessions_before
        assert "is not of your school's own Microsoft tenant" in text_of(
            client.get("/login/two-step"))
        done = give_code(client, code_at(key, MOMENT, 1))
    assert done.location == f"/o/{org.id}/"
    assert client.get(f"/o/{org.id}/").status_code == 200
    row = latest_session()
    assert (row.method, row.second_step, row.microsoft_tenant_id) == (
        "microsoft", "app", demo.TENANT_ID)
    assert latest_sign_in_audit() == {"method": "microsoft", "second_step": "app"}
    with client.session_transaction() as cookie:
        assert cookie["microsoft_account"] == demo.PERSONAL_UPN  # Connect's login_hint
    assert "Microsoft and authenticator app" in text_of(client.get("/account/security/"))


def test_an_admin_with_a_microsoft_account_of_the_schools_own_tenant_is_let_straight_in(
        app, school, factory):
    db.session.add(MicrosoftSignInLink(user_id=school.admin.id, tenant_id=demo.TENANT_ID,
                                       object_id=demo.ADMIN_ID, username=demo.ADMIN_UPN))
    require_two_step(school.oak.north, school.oak.south)  # both use the trust's connection
    client, answer = sign_in_with_microsoft(app, school.sim, demo.ADMIN_UPN)
    assert answer.location == "/"
    assert client.get(f"/o/{school.org.id}/settings/users/").status_code == 200
    assert latest_session().microsoft_tenant_id == demo.TENANT_ID
    assert audit_count(actions.SIGN_IN_FAILED) == 0
    # A session from before the tenant was recorded cannot show it was the school's tenant.
    latest_session().microsoft_tenant_id = None
    db.session.commit()
    assert client.get(f"/o/{school.org.id}/settings/users/").location == SET_UP


def test_microsoft_of_one_schools_tenant_does_not_stand_in_for_another_schools_policy(
        app, school, factory):
    """Every school whose policy asks the admin must be of that tenant, not just one of them."""
    db.session.add(MicrosoftSignInLink(user_id=school.admin.id, tenant_id=demo.TENANT_ID,
                                       object_id=demo.ADMIN_ID, username=demo.ADMIN_UPN))
    elsewhere = factory.organisation("Elsewhere School")
    factory.user(school.admin.email, [elsewhere], role="admin")
    connect_to_own_tenant(elsewhere)
    require_two_step(school.org, elsewhere)
    client, answer = sign_in_with_microsoft(app, school.sim, demo.ADMIN_UPN)
    assert answer.location == SET_UP
    assert client.get(f"/o/{school.org.id}/").location == SET_UP


def test_with_no_policy_an_account_with_two_step_gives_it_after_microsoft_of_another_tenant(
        app, microsoft, head):
    """No school asks for two-step, but the head turned it on: a Microsoft account of a tenant
    that is not the school's (one they linked themselves) once went straight in, past their
    authenticator app; the school's own tenant still needs no second step."""
    org = head.memberships[0].organisation
    connect_to_own_tenant(org)
    password_client = signed_in(app)
    assert link_from_security_page(password_client, microsoft, demo.PERSONAL_UPN).status_code == 303
    microsoft.control.reset()
    with frozen_at(MOMENT):
        key, _ = turn_on_app(password_client)
        client, answer = sign_in_with_microsoft(app, microsoft, demo.PERSONAL_UPN)
        assert answer.location == "/login/two-step"
        assert not is_signed_in(client)
        assert give_code(client, code_at(key, MOMENT, 1)).location == "/"
    assert latest_session().second_step == "app"


def test_with_no_policy_microsoft_of_the_schools_own_tenant_needs_no_second_step(
        app, school):
    db.session.add(MicrosoftSignInLink(user_id=school.admin.id, tenant_id=demo.TENANT_ID,
                                       object_id=demo.ADMIN_ID, username=demo.ADMIN_UPN))
    db.session.commit()
    password_client = signed_in(app, school.admin.email)
    with frozen_at(MOMENT):
        turn_on_app(password_client)
        client, answer = sign_in_with_microsoft(app, school.sim, demo.ADMIN_UPN)
    assert answer.location == "/" and is_signed_in(client)
