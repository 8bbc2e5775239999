"""Capacity: how many 5,000-person syncs per hour one RQ worker sustains, and with two.

    python -m bench.capacity [--users 5000] [--latency-ms 50] [--schools 6] [--workers 1 2]

Everything is real and on this machine: the Microsoft simulator (HTTPS, N generated staff in one
group, every Graph request delayed by --latency-ms), PostgreSQL (a throwaway database), Redis,
and `python -m jobs.worker` processes. Each school of one trust syncs the 5,000-person group.

1. First syncs: every school's first sync runs on one worker (5,000 people added per school;
   the first school also creates the 5,000 accounts), timed one by one.
2. Steady state: for each worker count, every school's sync is queued at once and the clock
   runs until the last one completes; syncs/hour = schools / elapsed x 3600. This is the
   recurring case (nothing changed in Microsoft), which is what a fleet of schools mostly runs.
Prints a table; --json writes the figures too.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--schools", type=int, default=6)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=3,
                        help="rounds per worker count; the median is reported")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    return parser.parse_args(argv)


def create_database():
    import psycopg
    name = f"rostersync_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_database(name):
    import psycopg
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def bench_environment(database_url, sim):
    """Set before webapp is imported: Config reads the environment at import."""
    run = uuid.uuid4().hex[:8]
    env = {"DATABASE_URL": database_url, "REDIS_URL": REDIS_URL,
           "REDIS_KEY_PREFIX": f"rostersync-bench-{run}:",
           "QUEUE_QUICK": f"rostersync-bench-{run}-quick", "QUEUE_SYNC": f"rostersync-bench-{run}-sync",
           "SECRET_KEY": "bench", "LOG_LEVEL": "WARNING",
           "TOKEN_ENCRYPTION_KEY": "p1VnWqHqV3qSx0k2rjv8lR5Qh5s1d4JbqYtq6o7mYxY=",
           "REQUESTS_CA_BUNDLE": sim.ca_path, **sim.env}
    os.environ.update(env)
    return dict(os.environ)


def set_up_trust(app, sim, schools):
    """A trust of N schools, connected once through the real sign-in flow, all on one group."""
    from microsoft_simulator import demo
    from harness.factory import Factory, sign_in
    from harness.connect import connect_organisation
    from webapp.extensions import db
    from webapp.microsoft.selection import choose_group
    from webapp.microsoft.models import connection_for_organisation
    from webapp.microsoft.services import graph_client_for
    with app.app_context():
        db.create_all()
        factory = Factory()
        orgs = [factory.organisation(f"Bench School {i + 1}", "Bench Trust") for i in range(schools)]
        admin = factory.user(demo.ADMIN_UPN, orgs, role="admin")
        org_ids, admin_id = [org.id for org in orgs], admin.id
    client = app.test_client()
    sign_in(client, demo.ADMIN_UPN)
    with app.app_context():
        org = db.session.get(type(orgs[0]), org_ids[0])
        assert connect_organisation(client, org, sim).status_code == 302
        graph = graph_client_for(connection_for_organisation(org))
        for org_id in org_ids:
            choose_group(db.session.get(type(orgs[0]), org_id), db.session.get(type(admin), admin_id),
                         demo.GENERATED_STAFF_GROUP_ID, graph)
    return org_ids, admin_id


def start_runs(app, org_ids, admin_id):
    from webapp.auth.models import User
    from webapp.extensions import db
    from webapp.orgs.models import Organisation
    from webapp.user_sync.engine import lifecycle
    with app.app_context():
        admin = db.session.get(User, admin_id)
        started = [lifecycle.start_run(db.session.get(Organisation, org_id), admin) for org_id in org_ids]
        assert all(new for _, new in started), "a school already had a run in progress"
        return [run.id for run, _ in started]


def wait_for_runs(app, run_ids, timeout=3600):
    from webapp.extensions import db
    from webapp.user_sync import models as m
    deadline = time.monotonic() + timeout
    with app.app_context():
        while time.monotonic() < deadline:
            db.session.expire_all()
            found = [db.session.get(m.SyncRun, run_id) for run_id in run_ids]
            if all(run.status not in m.ACTIVE_STATES for run in found):
                failed = [(run.id, run.reason) for run in found if run.status != m.COMPLETE]
                assert not failed, f"runs did not complete: {failed}"
                return [(run.started_at, run.finished_at, run.added) for run in found]
            time.sleep(0.1)
    raise RuntimeError("runs did not finish in time")


class Workers:
    def __init__(self, count, env):
        self.processes = [subprocess.Popen([sys.executable, "-m", "jobs.worker"], cwd=ROOT,
                                           env=env, stdout=subprocess.DEVNULL,
                                           stderr=subprocess.DEVNULL) for _ in range(count)]
        time.sleep(2.5)  # boot and register before the clock starts

    def stop(self):
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.wait(timeout=60)


def measure(app, env, org_ids, admin_id, workers):
    pool = Workers(workers, env)
    try:
        started = time.monotonic()
        timings = wait_for_runs(app, start_runs(app, org_ids, admin_id))
        elapsed = time.monotonic() - started
    finally:
        pool.stop()
    durations = [(end - begin).total_seconds() for begin, end, _ in timings]
    span = (max(end for _, end, _ in timings) - min(begin for begin, _, _ in timings))
    return {"workers": workers, "syncs": len(org_ids), "elapsed_s": round(elapsed, 2),
            "first_start_to_last_finish_s": round(span.total_seconds(), 2),
            "mean_sync_s": round(sum(durations) / len(durations), 2),
            "syncs_per_hour": round(len(org_ids) / elapsed * 3600)}


def median_of(rounds):
    """The round with the median rate; the other rounds' rates kept for the spread."""
    rounds = sorted(rounds, key=lambda r: r["syncs_per_hour"])
    middle = dict(rounds[len(rounds) // 2])
    middle["all_rounds_syncs_per_hour"] = [r["syncs_per_hour"] for r in rounds]
    return middle


def first_syncs(app, env, org_ids, admin_id):
    pool = Workers(1, env)
    try:
        times = []
        for org_id in org_ids:
            begin, end, added = wait_for_runs(app, start_runs(app, [org_id], admin_id))[0]
            times.append({"seconds": round((end - begin).total_seconds(), 2), "added": added})
    finally:
        pool.stop()
    return times


def main(argv=None):
    args = parse_arguments(argv)
    sys.path.insert(0, str(ROOT))
    from harness.simulator import SimulatorProcess
    db_name, database_url = create_database()
    try:
        with tempfile.TemporaryDirectory() as state, SimulatorProcess(
                state, users=args.users, latency_ms=args.latency_ms, startup_timeout=120) as sim:
            env = bench_environment(database_url, sim)
            from webapp import create_app
            app = create_app()
            org_ids, admin_id = set_up_trust(app, sim, args.schools)
            report = {"users": args.users, "latency_ms": args.latency_ms, "schools": args.schools,
                      "cpus": os.cpu_count(), "python": platform.python_version(),
                      "first_syncs": first_syncs(app, env, org_ids, admin_id),
                      "steady": [median_of(measure(app, env, org_ids, admin_id, w)
                                           for _ in range(args.repeat)) for w in args.workers]}
    finally:
        drop_database(db_name)
    print_report(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


def print_report(report):
    print(f"{report['users']}-person group, {report['latency_ms']} ms per Graph request, "
          f"{report['schools']} schools, {report['cpus']} CPUs")
    for i, first in enumerate(report["first_syncs"], 1):
        print(f"  first sync of school {i}: {first['seconds']} s ({first['added']} added)")
    print("  workers  syncs  elapsed s  mean sync s  syncs/hour (median; all rounds)")
    for row in report["steady"]:
        rounds = ", ".join(map(str, row["all_rounds_syncs_per_hour"]))
        print(f"  {row['workers']:>7}  {row['syncs']:>5}  {row['elapsed_s']:>9}  "
              f"{row['mean_sync_s']:>11}  {row['syncs_per_hour']:>10} ({rounds})")


if __name__ == "__main__":
    main()
