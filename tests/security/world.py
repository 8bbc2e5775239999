"""Three schools in two trusts, one account per persona, signed in and ready to post."""
from types import SimpleNamespace

from sqlalchemy import select

from harness.factory import csrf_token_from, sign_in
from webapp.extensions import db
from webapp.redis_conn import get_redis


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
