"""Set-up for the sync benchmark: a throwaway database, the app, a school connected for real.

The connection is made as the product makes it: MSAL's auth-code flow against the simulator,
the token cache encrypted into a MicrosoftConnection row.
"""
import logging
import os
import tempfile
import urllib.parse
import uuid
from contextlib import contextmanager

from harness import postgres
from harness.app_config import make_test_config
from harness.connect import simulator_config
from harness.microsoft_browser import MicrosoftBrowser
from microsoft_simulator import demo

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

REDIRECT_URI = "http://localhost/microsoft/callback"


@contextmanager
def running_simulator():
    """The Microsoft simulator in its own process, trusted over TLS by this process."""
    from harness.simulator import SimulatorProcess
    with tempfile.TemporaryDirectory(prefix="rostersync-bench-sim-") as state_dir:
        with SimulatorProcess(state_dir=state_dir) as sim:
            os.environ["REQUESTS_CA_BUNDLE"] = sim.ca_path
            yield sim


@contextmanager
def database(backend):
    """Yields a database URL that is dropped afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="rostersync-bench-db-") as folder:
            yield f"sqlite:///{folder}/bench.sqlite3"
        return
    name, url = postgres.create_database("rostersync_bench")
    try:
        yield url
    finally:
        postgres.drop_database(name)


def bench_app(database_url, sim, **overrides):
    from webapp import create_app
    from webapp.extensions import db
    run = uuid.uuid4().hex[:8]
    config = make_test_config(database_url, REDIS_URL, **simulator_config(sim),
                              REDIS_KEY_PREFIX=f"rostersync-bench-{run}:",
                              QUEUE_QUICK=f"rostersync-bench-{run}-quick",
                              QUEUE_SYNC=f"rostersync-bench-{run}-sync", **overrides)
    app = create_app(config)
    logging.getLogger("rostersync.request").setLevel(logging.WARNING)  # one line per request
    with app.app_context():
        db.create_all()
    return app


def school(name, admin_email):
    from webapp.orgs.services import add_membership, create_organisation, get_or_create_user
    from webapp.extensions import db
    org = create_organisation(name, "Bench Trust")
    admin = get_or_create_user(admin_email, "Bench Admin")
    admin.set_password("password")
    add_membership(admin, org, role="admin")
    db.session.commit()
    return org, admin


def connect(sim, org, admin, group_id=demo.GENERATED_STAFF_GROUP_ID, group_name="Generated Staff"):
    """The real flow: MSAL initiates, the simulator's pages are driven, MSAL redeems the code."""
    from webapp.extensions import db
    from webapp.microsoft import identity, tokens
    from webapp.microsoft.models import MicrosoftConnection
    from webapp.microsoft.selection import GroupChoice
    os.environ["REQUESTS_CA_BUNDLE"] = sim.ca_path
    flow = identity.start_auth_code_flow(REDIRECT_URI)
    browser = MicrosoftBrowser(sim)
    browser.open(flow["auth_uri"])
    callback = browser.sign_in_as(demo.ADMIN_UPN)
    answer = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(callback).query))
    result, cache = identity.finish_auth_code_flow(flow, answer)
    claims = result["id_token_claims"]
    db.session.add(MicrosoftConnection(
        trust_id=org.trust_id, connected_by_user_id=admin.id,
        account_email=claims["preferred_username"], account_object_id=claims["oid"],
        tenant_id=claims["tid"], home_account_id=f"{claims['oid']}.{claims['tid']}",
        granted_scopes=result.get("scope", ""),
        token_cache_encrypted=tokens.encrypt_cache(cache.serialize())))
    db.session.add(GroupChoice(organisation_id=org.id, group_id=group_id,
                               display_name=group_name, kind="security"))
    db.session.commit()


def add_synthetic_people(org, count):
    """A second school whose people table holds `count` rows (the 500-person comparison)."""
    from webapp.extensions import db
    from webapp.user_sync.engine.store import PEOPLE, bulk_insert
    statuses = ("active",) * 8 + ("suspended", "excluded")
    bulk_insert(PEOPLE, [{
        "organisation_id": org.id, "microsoft_id": f"synthetic-{i}",
        "email": f"person{i:06d}@small.example", "email_normalised": f"person{i:06d}@small.example",
        "display_name": f"Person {i:06d}", "sort_name": f"person {i:06d}",
        "job_title": "Teacher", "department": "Maths", "status": statuses[i % 10],
        "excluded": statuses[i % 10] == "excluded", "in_group": True} for i in range(count)])
    db.session.commit()
