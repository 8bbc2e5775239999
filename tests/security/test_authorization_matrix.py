"""Who may call what: every route of app.url_map, every method, five personas.

anonymous -> sign-in page (or 401/404); a member -> 404 on admin pages; an admin of another
school, in the same trust or another trust -> 404, also when they put this school's ids under
their own school's URL; the school's admin -> served. Every refusal leaves the database and the
job queues exactly as they were, every GET does too (every state change is a POST), and every
answer carries the security headers with no inline script or style. A route missing from
tests/security/route_table.py fails the suite until someone classifies it.
"""
import pytest
from flask import url_for

from harness.app_config import make_test_config
from tests.security.pages import assert_safe_page
from tests.security.route_table import ADMIN, ID, ORG, PUBLIC, ROUTES, SIGNED_IN
from tests.security.world import database_snapshot, queue_snapshot, shared_world
from webapp import create_app

# Who may call a route is decided in Python, not by the database; one backend keeps this fast.
# (The connected-pages and callback tests run on both.)
pytestmark = pytest.mark.backends("sqlite")

SKIPPED_METHODS = {"HEAD", "OPTIONS"}

def troubleshooting_run_id(world):
    from webapp.troubleshooting import remote_checks
    return remote_checks.start(world.org, world.admin_user)


def sync_run_id(world):
    from webapp.extensions import db
    from webapp.user_sync.models import SyncRun
    run = SyncRun(organisation_id=world.org.id, status="complete", group_name="Staff")
    db.session.add(run)
    db.session.commit()
    return run.id


def synced_person_id(world):
    from webapp.extensions import db
    from webapp.user_sync.models import SyncedPerson
    person = SyncedPerson(organisation_id=world.org.id, microsoft_id="ms-1", email="p@a.example",
                          email_normalised="p@a.example", display_name="P", sort_name="p")
    db.session.add(person)
    db.session.commit()
    return person.id


def schools_shown(world):
    from webapp.trust.actions import shown_token
    return shown_token([world.org])


def microsoft_link_id(world):
    from webapp.auth.models import MicrosoftSignInLink
    from webapp.extensions import db
    link = MicrosoftSignInLink(user_id=world.admin_user.id, object_id="a0000000-0000-4000-8000-0000000000ee",
                               tenant_id="8f3c2a1e-5b7d-4e90-a6c1-0d2e4f6a8b10", username="admin.a@a.example")
    db.session.add(link)
    db.session.commit()
    return link.id


def passkey_id(world):
    from webapp.extensions import db
    from webapp.two_step.models import Passkey
    passkey = Passkey(user_id=world.admin_user.id, credential_id=b"made-up-credential-id",
                      public_key=b"made-up-public-key", sign_count=0, name="Office laptop")
    db.session.add(passkey)
    db.session.commit()
    return passkey.id


# Real ids for URL parameters other than org_id: always school A's objects, made before
# anything is measured. A troubleshooting run lives in Redis, which every test starts without:
# it is made again for each test.
REDIS_FILLERS = {"run_id": troubleshooting_run_id}
FILLERS = {
    **REDIS_FILLERS,
    "link_id": microsoft_link_id,
    "membership_id": lambda world: world.member_membership_id,
    "sync_run_id": sync_run_id,
    "person_id": synced_person_id,
    "kind": lambda world: "json",  # a person's data held: the JSON file (HTML is the same view)
    "school_id": lambda world: world.org.id,  # a row of Settings › Schools
    "shown": schools_shown,  # the Schools page's signed list of the rows it showed
    "passkey_id": passkey_id,  # the school admin's one passkey
}


def served_routes():
    app = create_app(make_test_config("sqlite://", "redis://127.0.0.1:1/0"))
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - SKIPPED_METHODS):
            found.append((rule.endpoint, method, tuple(sorted(rule.arguments))))
    return found


SERVED = served_routes()


def test_every_route_is_classified():
    missing = [f"{endpoint} {method}" for endpoint, method, _ in SERVED
               if (endpoint, method) not in ROUTES]
    assert not missing, ("Classify these routes in tests/security/route_table.py "
                         f"(who may call them?): {missing}")


def test_every_url_parameter_has_a_filler():
    unknown = {arg for _, _, args in SERVED for arg in args if arg != "org_id"} - set(FILLERS)
    assert not unknown, f"Add a filler for these URL parameters in FILLERS: {sorted(unknown)}"


CLASSIFIED = [pytest.param(endpoint, method, id=f"{endpoint}-{method}")
              for endpoint, method, _ in SERVED if (endpoint, method) in ROUTES]


def build_url(world, endpoint, org):
    rule = next(r for r in world.app.url_map.iter_rules() if r.endpoint == endpoint)
    values = {arg: world.ids[arg] for arg in rule.arguments if arg != "org_id"}
    if "org_id" in rule.arguments:
        values["org_id"] = org.id
    with world.app.test_request_context():
        return url_for(endpoint, **values)


def form_for(route, client, org, world):
    form = {"csrf_token": client.csrf_token}
    for name, value in route.form.items():
        if value is ORG:
            value = org.id
        elif isinstance(value, ID):
            value = world.ids[value.name]
        form[name] = value
    return form


def call(world, persona, endpoint, method, org=None):
    route, client = ROUTES[(endpoint, method)], world.clients[persona]
    org = org or world.org
    url = build_url(world, endpoint, org)
    if method == "GET":
        response = client.get(url)
    else:
        response = client.open(url, method=method, data=form_for(route, client, org, world))
    assert_safe_page(response, f"{persona} {method} {url}")
    return response


def assert_refused_without_effect(world, persona, endpoint, method, allowed, org=None):
    before = (database_snapshot(), queue_snapshot(world.app))
    response = call(world, persona, endpoint, method, org)
    assert response.status_code in allowed, (
        f"{persona} {method} {endpoint}: {response.status_code} {response.location}")
    if response.status_code in (302, 303):
        assert response.location.startswith("/login"), response.location
    assert (database_snapshot(), queue_snapshot(world.app)) == before, (
        f"{persona} {method} {endpoint} was refused but changed state")


def assert_served(world, persona, endpoint, method):
    read_only = method == "GET" and not ROUTES[(endpoint, method)].mutating_get
    before = (database_snapshot(), queue_snapshot(world.app)) if read_only else None
    response = call(world, persona, endpoint, method)
    assert response.status_code < 400, f"{persona} {method} {endpoint}: {response.status_code}"
    if read_only:
        assert (database_snapshot(), queue_snapshot(world.app)) == before, (
            f"GET {endpoint} by {persona} changed state: state changes must be POSTs")
    return response


def has_object_ids(endpoint, method):
    return any("org_id" in args and len(args) > 1
               for e, m, args in SERVED if (e, m) == (endpoint, method))


def is_scoped_to_an_organisation(endpoint, method):
    """The organisation comes from the URL (/o/<org_id>/...) or from a posted org_id."""
    in_url = any("org_id" in args for e, m, args in SERVED if (e, m) == (endpoint, method))
    return in_url or any(value is ORG for value in ROUTES[(endpoint, method)].form.values())


def build_world_with_ids(app, factory):
    """The world with an id for every URL parameter: built for real once per database per
    session, restored for every later test (tests/security/world.py)."""
    return shared_world(app, factory, FILLERS, REDIS_FILLERS)


@pytest.fixture
def world(app, factory):
    return build_world_with_ids(app, factory)


@pytest.mark.parametrize("endpoint, method", CLASSIFIED)
def test_route_serves_only_the_people_it_should(world, endpoint, method):
    access = ROUTES[(endpoint, method)].access
    if access == PUBLIC:
        for persona in ("anonymous", "member", "other_trust_admin"):
            assert call(world, persona, endpoint, method).status_code < 500
        return
    assert_refused_without_effect(world, "anonymous", endpoint, method, {302, 303, 401, 404})
    if is_scoped_to_an_organisation(endpoint, method):
        for persona in ("other_org_admin", "other_trust_admin"):
            assert_refused_without_effect(world, persona, endpoint, method, {404})
    if has_object_ids(endpoint, method):
        # School B's admin puts school A's ids under B's own URL: still a 404, nothing changes.
        assert_refused_without_effect(world, "other_org_admin", endpoint, method, {404},
                                      org=world.other_org)
    if access == ADMIN:
        assert_refused_without_effect(world, "member", endpoint, method, {404})
    else:
        assert_served(world, "member", endpoint, method)
    assert_served(world, "admin", endpoint, method)


def test_signed_in_routes_are_few_and_known():
    """Routes outside /o/<org_id>/ cannot be scoped by the URL; keep that list deliberate."""
    unscoped = sorted(endpoint for (endpoint, _), route in ROUTES.items()
                      if route.access in (SIGNED_IN, PUBLIC))
    assert set(unscoped) <= {"health.healthz", "auth.login", "auth.logout", "main.home",
                             "main.favicon", "microsoft_callback.callback",
                             "auth.forgot_password",
                             "auth.request_reset", "auth.reset_requested",
                             "auth.reset_password_page", "auth.reset_password",
                             "auth.microsoft_sign_in", "invitations.accept",
                             "invitations.set_password", "invitations.accept_with_microsoft",
                             "invitations.renew", "account_security.index",
                             "account_security.change_password",
                             "account_security.sign_out_others",
                             "account_security.link_microsoft",
                             "account_security.unlink_microsoft",
                             "auth.second_step_page", "auth.second_step_code",
                             "auth.second_step_recovery_page", "auth.second_step_recovery",
                             "auth.second_step_passkey_options", "auth.second_step_passkey",
                             "account_security.two_step_setup",
                             "account_security.start_authenticator",
                             "account_security.authenticator_setup",
                             "account_security.verify_authenticator",
                             "account_security.remove_authenticator",
                             "account_security.passkey_registration_options",
                             "account_security.add_passkey", "account_security.remove_passkey",
                             "account_security.new_recovery_codes",
                             "account_security.turn_off_two_step"}, unscoped
