"""Bad input never breaks a page: every form field and query parameter the app's pages offer,
found by crawling every GET route of the URL map (tests/security/discovery.py), is sent empty,
huge, negative, non-numeric, 10,000 characters (and digits) long, in Unicode (with a NUL and
right-to-left marks) and as markup. No answer is a 500, no page carries the markup unescaped,
and no text stored in the database is longer than its column allows. Every text field states
its limit: a maxlength, and for text that is stored, the words next to it. No page, partial or
answer has inline script or style the Content-Security-Policy would refuse."""
import itertools
from datetime import timedelta

import pyotp
import pytest
from flask import url_for
from sqlalchemy import String, Text, select
from werkzeug.datastructures import MultiDict

from harness.factory import csrf_token_from
from tests.security.discovery import crawl, targets
from tests.security.pages import is_download, markup_problems
from tests.microsoft_flow import demo
from tests.sync_helpers import NORTHFIELD, connected_school, people, sync_in_process
from webapp import audit
from webapp.audit import actions
from webapp.auth import tokens
from webapp.auth.models import MicrosoftSignInLink
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.microsoft import groups
from webapp.microsoft.services import graph_client_for
from webapp.orgs.models import Membership
from webapp.troubleshooting import remote_checks
from webapp.two_step import authenticator, recovery_codes
from webapp.two_step.models import AuthenticatorApp, Passkey
from webapp.user_sync import models as m
from webapp.user_sync.people import set_excluded
from webapp.user_sync.settings import save_settings

pytestmark = pytest.mark.both_databases  # column widths, NUL and integer range differ

MARKUP = '"><script>alert(1)</script>'
LONG = "x" * 10_000
HOSTILE = {
    "empty": "",
    "huge": "9" * 40,
    "negative": "-1",
    "non-numeric": "ten",
    "10,000 characters": LONG,
    "10,000 digits": "9" * 10_000,
    "unicode": "Zoë Ó Súilleabháin \u202e٣٠ 名前 😀 \x00",
    "markup": MARKUP,
}
ADDRESSES = itertools.count(1)
TEXT_KINDS = ("", "text", "email", "search", "url", "tel", "textarea")
# Typed to sign in (or to prove it is you), never stored.
SIGN_IN = ("username", "current-password", "one-time-code")
# Shaped for the field's type: a date field's huge and negative are the last and first days
# Python's dates can hold; an email field's 10,000 characters are an address.
SHAPED = {"date": {"huge": "9999-12-31", "negative": "0001-01-01"},
          "email": {"10,000 characters": LONG + "@school.example"}}
NEWCOMER = {"displayName": "Nia Newcomer", "userPrincipalName": "nia.newcomer@oaklearning.example"}


@pytest.fixture
def world(app, factory, client, microsoft):
    """A connected school in every state that shows a form: groups listed, synced, a person
    excluded, a colleague, a preview that would add someone, a review waiting, a troubleshooting
    run, and enough Activity for a second page."""
    school = connected_school(factory, client, microsoft)
    groups.begin_snapshot(school.connection)
    groups.take_snapshot(school.connection.id, graph_client_for(school.connection))
    assert sync_in_process(school).status == m.COMPLETE
    excluded_id = people(school.org)[0].id
    set_excluded(school.org, excluded_id, True)
    factory.user("colleague@oaklearning.example", [school.org], role="member", name="Colleague")
    microsoft.control.add_member(NORTHFIELD, microsoft.control.create_user(**NEWCOMER))
    sync_in_process(school, kind=m.KIND_PREVIEW)
    save_settings(school.org.id, False, 1, 1)
    for leaver in people(school.org, status="active")[:2]:
        microsoft.control.remove_member(NORTHFIELD, leaver.microsoft_id)
    assert sync_in_process(school).status == m.NEEDS_REVIEW
    for _ in range(55):
        audit.record(actions.CSV_EXPORTED, school.org.id, after={"export": "people"})
    db.session.add(MicrosoftSignInLink(user_id=school.admin.id, tenant_id=demo.TENANT_ID,
                                       object_id=demo.ADMIN_ID, username=demo.ADMIN_UPN))
    db.session.commit()
    school.token_urls = links_of_every_kind(factory, school)
    school.second_step = two_step_of_every_kind(app, factory, school)
    school.path_values = {
        "org_id": [school.org.id],
        "school_id": [school.oak.south.id],  # the Schools page's rows (the admin has two)
        "membership_id": db.session.scalars(select(Membership.id).where(
            Membership.organisation_id == school.org.id)).all(),
        "sync_run_id": db.session.scalars(select(m.SyncRun.id)).all(),
        # the excluded person's page offers Include, anyone else's Sync this person now
        # (by id: an unordered query's first row moves once PostgreSQL rewrites it)
        "person_id": [excluded_id, next(p.id for p in people(school.org) if not p.excluded)],
        "run_id": [remote_checks.start(school.org, school.admin)],
        "kind": ["json", "html"],
    }
    return school


def two_step_of_every_kind(app, factory, school):
    """The admin with an authenticator app, a passkey, recovery codes and a new phone being set
    up (Sign-in and security and the set-up page show every two-step form); a colleague with
    two-step (Manage users offers Reset two-step), half signed in on a browser of their own (the
    second step's pages, code, recovery code and passkey). Returns that browser."""
    colleague = factory.user("two.step@oaklearning.example", [school.org], role="admin",
                             name="Two Step")
    for user in (school.admin, colleague):
        db.session.add(AuthenticatorApp(user_id=user.id, confirmed_at=utcnow(),
                                        secret_encrypted=authenticator.encrypt(pyotp.random_base32())))
        db.session.add(Passkey(user_id=user.id, credential_id=f"credential-{user.id}".encode(),
                               public_key=b"public-key", name="Office laptop"))
        recovery_codes.replace_all(user)
    db.session.commit()
    authenticator.start_setup(school.admin)
    half_signed_in = app.test_client()
    page = half_signed_in.get("/login")
    assert half_signed_in.post("/login", data={
        "csrf_token": csrf_token_from(page.text), "email": colleague.email,
        "password": "password"}).location == "/login/two-step"
    return half_signed_in


def links_of_every_kind(factory, school):
    """A person invited (Manage users offers Resend and Cancel), and the pages of an open
    invitation, an expired one and a password reset, as their emails would link them."""
    invited = factory.user("invited@oaklearning.example", [school.org], password=None,
                           name="Invited Person")
    urls = []
    for purpose, user, endpoint, expired in (
            (tokens.INVITATION, invited, "invitations.accept", False),
            (tokens.INVITATION, invited, "invitations.accept", True),
            (tokens.PASSWORD_RESET, school.admin, "auth.reset_password_page", False)):
        row = tokens.issue(purpose, user, school.org if purpose == tokens.INVITATION else None)
        token, row.token_hash = tokens.new_token()
        row.sent_at = utcnow()
        if expired:
            row.expires_at = utcnow() - timedelta(days=1)
        db.session.commit()
        with school.client.application.test_request_context():
            urls.append(url_for(endpoint, token=token))
    return urls


def hostile_requests(target, kind):
    """The target sent once per field with that field's value replaced (a checkbox or select
    included, as a forged post would), its other empty text fields filled in as a person would,
    so the hostile value is what decides (a new email address each time)."""
    names = dict.fromkeys(name for name, _ in target.fields if name != "csrf_token")
    for name in names:
        data = MultiDict([(n, filled(target, n, v)) for n, v in target.fields
                          if n != name and v is not None])
        data.add(name, SHAPED.get(target.kind_of(name), {}).get(kind, HOSTILE[kind]))
        yield name, data


def filled(target, name, value):
    kind = target.kind_of(name)
    if value or kind not in ("", "text", "email", "password"):
        return value
    return f"sweep.{next(ADDRESSES)}@school.example" if kind == "email" else "Sample"


def send(client, target, data, token):
    headers = {"HX-Request": "true"} if target.htmx else {}
    if target.method == "GET":
        return client.get(target.url, query_string=data, headers=headers)
    data.setlist("csrf_token", [token])
    return client.post(target.url, data=data, headers=headers, follow_redirects=not target.htmx)


def overlong_stored_text():
    """Every stored text longer than its column allows, or containing the 10,000 characters."""
    found = []
    db.session.expire_all()
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, (String, Text))]
        for row in db.session.execute(select(*columns)) if columns else ():
            for column, value in zip(columns, row):
                limit = getattr(column.type, "length", None)
                if value and ((limit and len(value) > limit) or LONG[:1000] in value):
                    found.append(f"{table.name}.{column.name}: {len(value)} characters")
    db.session.rollback()
    return found


def test_every_form_field_and_query_parameter_takes_bad_input_and_states_its_limits(
        app, world, client):
    anonymous, second_step = app.test_client(), world.second_step
    pages = crawl(client, app, world.path_values)
    pages.update(crawl(anonymous, app, world.path_values, world.token_urls))
    pages.update(crawl(second_step, app, {name: [] for name in world.path_values},
                       ["/login/two-step", "/login/two-step/recovery"]))
    assert not unstated_limits(pages), "\n".join(unstated_limits(pages))
    refused_by_csp = [f"{url}{' (htmx)' if htmx else ''}: {problem}"
                      for (url, htmx), parsed in pages.items()
                      for problem in markup_problems(parsed.text, parsed.standalone_file)]
    assert not refused_by_csp, "\n".join(refused_by_csp)
    found = targets(pages, app)
    posted = {rule.endpoint for rule in app.url_map.iter_rules() if "POST" in rule.methods}
    unreached = posted - {target.endpoint for target in found if target.method == "POST"}
    assert not unreached, f"no crawled page has a form for {unreached}: give the world that state"
    senders = {"admin": (client, csrf_token_from(client.get(f"/o/{world.org.id}/settings").text)),
               "signed out": (anonymous, csrf_token_from(anonymous.get("/login").text)),
               "second step": (second_step, csrf_token_from(second_step.get("/login/two-step").text))}
    problems = []
    for kind in HOSTILE:
        for target, name, data in requests_to_send(found, kind):
            sender, token = senders[who_sends(target)]
            problem = problem_with(send, sender, target, data, token)
            if problem:
                problems.append(f"{target.label()} {name}={kind}: {problem}")
    problems += overlong_stored_text()
    assert not problems, "\n".join(problems)


def who_sends(target):
    if target.endpoint == "auth.login":
        return "signed out"
    return "second step" if target.endpoint.startswith("auth.second_step") else "admin"


def unstated_limits(pages):
    """Text fields without a maxlength, and stored ones (a POST form's text or email, not a
    search, a sign-in or a time typed as digits) whose description does not give the limit."""
    problems = set()
    for (url, _), parsed in pages.items():
        for form in parsed.forms:
            for control in form.fields:
                attrs = control.attrs
                if control.kind not in TEXT_KINDS or "readonly" in attrs:
                    continue
                limit = attrs.get("maxlength")
                if not limit:
                    problems.add(f"{url}: {control.name} has no maxlength")
                elif is_stored_text(form, control) and limit not in parsed.text_of(
                        attrs.get("aria-describedby", "")):
                    problems.add(f"{url}: {control.name} does not say it takes {limit} characters")
    return sorted(problems)


def is_stored_text(form, control):
    return (form.method == "POST" and control.kind in ("", "text", "email", "textarea")
            and control.attrs.get("inputmode") != "numeric"
            and control.attrs.get("autocomplete") not in SIGN_IN)


def requests_to_send(found, kind):
    """Each field of each distinct way to send a form (or follow a link) once, however many
    pages offer it."""
    swept = set()
    for target in found:
        for name, data in hostile_requests(target, kind):
            if (target.key[:3], target.variant, name) not in swept:
                swept.add((target.key[:3], target.variant, name))
                yield target, name, data


def problem_with(send, client, target, data, token):
    try:
        response = send(client, target, data, token)
    except Exception as error:  # noqa: BLE001  (every failure listed, not only the first)
        db.session.rollback()
        return f"{type(error).__name__}: {str(error)[:200]}"
    if response.status_code >= 500:
        return f"answered {response.status_code}"
    if response.mimetype == "text/html" and "<script>alert(1)" in response.text:
        return "the markup came back unescaped"
    refused = response.mimetype == "text/html" and markup_problems(response.text,
                                                                   is_download(response))
    if refused:
        return f"the answer has what the CSP refuses: {refused}"
    return None
