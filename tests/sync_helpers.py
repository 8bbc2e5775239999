"""A connected school, ready to sync, for the user-sync tests.

    school = connected_school(factory, client, microsoft)        # a real connect, every time
    school = shared_connected_school(factory, client, microsoft) # built once per session
    run = sync_in_process(school)                                 # the engine, no worker
"""
from types import SimpleNamespace

from sqlalchemy import func, select

from harness.factory import sign_in
from tests.microsoft_flow import connect_organisation, demo, oak_trust
from tests.shared_state import built_once
from webapp.auth.models import User
from webapp.extensions import db
from webapp.microsoft.groups import enqueue_snapshot
from webapp.microsoft.models import connection_for_organisation
from webapp.microsoft.selection import choose_group
from webapp.microsoft.services import graph_client_for
from webapp.orgs.models import Organisation
from webapp.user_sync import models as m
from webapp.user_sync.engine import lifecycle
from webapp.user_sync.engine.run import run_sync

NORTHFIELD = demo.NORTHFIELD_STAFF_GROUP_ID
# Northfield Staff, nested TAs included: 31 users; a guest, a disabled account and the two
# people sharing one email are skipped, so a first sync adds 27.
NORTHFIELD_ADDED = 27


def connected_school(factory, client, sim, group_id=NORTHFIELD):
    oak = oak_trust(factory)
    sign_in(client, oak.admin.email, "password")
    response = connect_organisation(client, oak.north, sim)
    assert response.status_code == 302, response.text
    connection = connection_for_organisation(oak.north)
    choose_group(oak.north, oak.admin, group_id, graph_client_for(connection))
    return SimpleNamespace(org=oak.north, admin=oak.admin, oak=oak, connection=connection,
                           client=client, sim=sim)


def shared_connected_school(factory, client, sim):
    """The same state as connected_school, from one real connect per database per session."""
    return shared_school("connected-school", factory, client, sim)


def shared_school(name, factory, client, sim, group_id=NORTHFIELD, prepare=None):
    """connected_school(group_id) then prepare(school), built for real once per database per
    session under `name` and restored for every later test (tests/shared_state.py). The
    restored client carries the admin's session cookie from the build, whose session row is
    restored with everything else: the admin is signed in once, as after a real build."""
    built = []

    def build():
        school = connected_school(factory, client, sim, group_id)
        if prepare is not None:
            prepare(school)
        built.append(school)
        cookie = client.get_cookie(client.application.config["SESSION_COOKIE_NAME"])
        return {"north": school.oak.north.id, "south": school.oak.south.id,
                "admin": school.admin.id, "session_cookie": cookie.value}
    ids = built_once(name, build)
    if built:
        return built[0]
    north, south = (db.session.get(Organisation, ids[name]) for name in ("north", "south"))
    admin = db.session.get(User, ids["admin"])
    connection = connection_for_organisation(north)
    enqueue_snapshot(connection.id)  # what the connect queued: Redis is not in the snapshot
    client.set_cookie(client.application.config["SESSION_COOKIE_NAME"], ids["session_cookie"])
    oak = SimpleNamespace(north=north, south=south, admin=admin, trust=north.trust)
    return SimpleNamespace(org=north, admin=admin, oak=oak, client=client, sim=sim,
                           connection=connection)


def sync_in_process(school, kind=m.KIND_SYNC):
    run, started = lifecycle.start_run(school.org, school.admin, kind)
    assert started, f"a run was already active: {run.id} {run.status}"
    return run_sync(run.id)


def latest_run(school):
    """The school's newest run, read afresh."""
    db.session.expire_all()
    return db.session.scalars(select(m.SyncRun).where(m.SyncRun.organisation_id == school.org.id)
                              .order_by(m.SyncRun.id.desc())).first()


def people(org, **where):
    stmt = select(m.SyncedPerson).where(m.SyncedPerson.organisation_id == org.id)
    for name, value in where.items():
        stmt = stmt.where(getattr(m.SyncedPerson, name) == value)
    return db.session.scalars(stmt).all()


def person(org, microsoft_id):
    return db.session.scalar(select(m.SyncedPerson).where(
        m.SyncedPerson.organisation_id == org.id, m.SyncedPerson.microsoft_id == microsoft_id))


def count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def changes(run, action=None):
    stmt = select(m.SyncChange).where(m.SyncChange.run_id == run.id)
    if action:
        stmt = stmt.where(m.SyncChange.action == action)
    return db.session.scalars(stmt.order_by(m.SyncChange.id)).all()


def lose_job_and_sweep(run):
    """The run's job vanished from Redis an hour ago (a worker and Redis both lost); the sweep a
    page's poll does then fails the run. Returns the run, refreshed."""
    from datetime import timedelta

    from rq.job import Job

    from webapp.clock import utcnow
    from webapp.redis_conn import get_redis
    Job.fetch(run.rq_job_id, connection=get_redis()).delete()
    run.created_at = run.started_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    lifecycle.sweep_stale_runs(run.organisation_id)
    db.session.refresh(run)
    return run
