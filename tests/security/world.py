"""Three schools in two trusts, one account per persona, signed in and ready to post."""
from types import SimpleNamespace

from sqlalchemy import select

from harness.factory import csrf_token_from, sign_in
from tests.shared_state import built_once
from webapp.auth.models import User
from webapp.extensions import db
from webapp.orgs.models import Organisation
from webapp.redis_conn import get_redis

ORGANISATIONS = ("org", "other_org", "other_trust_org")


def build_world(app, factory):
    a = factory.school_with_admin("School A", trust="Trust One", email="admin.a@a.example")
    # A's admin administers a second school of the trust, so Settings › Schools serves them.
    factory.user(a.user.email, [factory.organisation("School A2", "Trust One")], role="admin")
    member = factory.user("member.a@a.example", [a.org], role="member", name="Member of A")
    b = factory.school_with_admin("School B", trust="Trust One", email="admin.b@b.example")
    c = factory.school_with_admin("School C", trust="Trust Two", email="admin.c@c.example")
    world = SimpleNamespace(app=app, org=a.org, admin_user=a.user, other_org=b.org, other_trust_org=c.org,
                            member_membership_id=member.memberships[0].id, clients={})
    for persona, email in (("admin", a.user.email), ("member", member.email),
                           ("other_org_admin", b.user.email),
                           ("other_trust_admin", c.user.email), ("anonymous", None)):
        world.clients[persona] = signed_in_client(app, email)
    return world


def shared_world(app, factory, fillers, redis_fillers):
    """build_world with world.ids from fillers ({URL parameter: filler(world)}), built for real
    by the first test of this database's session, then restored (tests/shared_state.py) with
    each persona's browser as it was: its session cookie, whose session row comes back with the
    rest.
    redis_fillers make again, for every test, the ids whose objects live in Redis."""
    built = []

    def build():
        world = build_world(app, factory)
        world.ids = {name: filler(world) for name, filler in fillers.items()}
        built.append(world)
        return _record_of(world, redis_fillers)
    record = built_once("security-world", build)
    if built:
        return built[0]
    world = SimpleNamespace(app=app, admin_user=db.session.get(User, record["admin_user"]),
                            member_membership_id=record["member_membership_id"],
                            ids=dict(record["ids"]), clients={})
    for name in ORGANISATIONS:
        setattr(world, name, db.session.get(Organisation, record[name]))
    for persona, (cookie, token) in record["clients"].items():
        client = world.clients[persona] = app.test_client()
        client.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie)
        client.csrf_token = token
    world.ids.update({name: filler(world) for name, filler in redis_fillers.items()})
    return world


def _record_of(world, redis_fillers):
    """Plain values: ids, and each persona's session cookie (as tests/sync_helpers.py keeps the
    shared school's admin's) with the CSRF token it holds."""
    session_cookie = world.app.config["SESSION_COOKIE_NAME"]
    return {**{name: getattr(world, name).id for name in ORGANISATIONS},
            "admin_user": world.admin_user.id,
            "member_membership_id": world.member_membership_id,
            "ids": {name: value for name, value in world.ids.items() if name not in redis_fillers},
            "clients": {persona: (client.get_cookie(session_cookie).value, client.csrf_token)
                        for persona, client in world.clients.items()}}


def signed_in_client(app, email):
    client = app.test_client()
    if email:
        sign_in(client, email)
    page = client.get("/" if email else "/login", follow_redirects=True)
    client.csrf_token = csrf_token_from(page.text)
    return client


# A session's last request is bookkeeping every request does, not a change the request made.
BOOKKEEPING = {"account_sessions": {"last_seen_at"}}


def database_snapshot():
    """Every row of every table, so a test can prove a request changed nothing."""
    db.session.expire_all()
    snapshot = {}
    for table in db.metadata.sorted_tables:
        skipped = BOOKKEEPING.get(table.name, set())
        columns = [column for column in table.columns if column.name not in skipped]
        rows = db.session.execute(select(*columns)).all()
        snapshot[table.name] = sorted(repr(tuple(row)) for row in rows)
    db.session.rollback()
    return snapshot


def queue_snapshot(app):
    conn = get_redis(app)
    return {name: conn.llen(f"rq:queue:{name}")
            for name in (app.config["QUEUE_QUICK"], app.config["QUEUE_SYNC"])}
