"""The whole sync against the simulator, on SQLite and PostgreSQL, printed as a table.

    python -m bench.sync [--users 50000] [--latency-ms 50] [--backends sqlite,postgresql]

Per database: a first sync of a nested group in a real `python -m jobs.worker --burst`
(three, each on a fresh database; the median is reported with the spread)
process (job time against the Graph floor of pages x latency, the fetch and the apply
from the run's own timestamps, worker peak memory), a re-sync
with no changes (people-table writes counted), and the Manage user sync page at that size and
at 500 people (median of repeated requests).
"""
import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench import sync_setup
from bench.load import under_load
from bench.table import Row, mib, secs

ROOT = Path(__file__).resolve().parent.parent
PAGE_SIZE = 999
PEOPLE_TABLES = ("users", "memberships", "synced_people")
# The filtered, paginated screen measured: active people, sorted by name, page 3.
SCREEN_QUERY = "?status=active&sort=name&page=3"

MEASURE_WORKER = """
import resource, subprocess, sys
subprocess.run([sys.executable, "-m", "jobs.worker", "--burst"], check=True,
               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def run_in_worker(app, run_id):
    """Runs the queued job in a real worker; returns the peak RSS (MiB) of worker and job."""
    from harness.app_config import worker_environment
    done = subprocess.run([sys.executable, "-c", MEASURE_WORKER], cwd=ROOT, check=True,
                          env=worker_environment(app), capture_output=True, text=True, timeout=1800)
    return int(done.stdout.strip().splitlines()[-1]) / 1024


def load(org_id, admin_id):
    from webapp.auth.models import User
    from webapp.extensions import db
    from webapp.orgs.models import Organisation
    return db.session.get(Organisation, org_id), db.session.get(User, admin_id)


def first_sync(app, org_id, admin_id):
    from webapp.extensions import db
    from webapp.user_sync import models as m
    from webapp.user_sync.engine import lifecycle
    with app.app_context():
        run, _ = lifecycle.start_run(*load(org_id, admin_id))
        run_id = run.id
    peak = run_in_worker(app, run_id)
    with app.app_context():
        run = db.session.get(m.SyncRun, run_id)
        if run.status != m.COMPLETE:
            raise RuntimeError(f"sync ended {run.status}: {run.reason}")
        return {"seconds": run.duration_seconds, "added": run.added, "peak_mib": peak,
                "fetched": run.fetched, "fetch_seconds": run.fetch_seconds,
                "apply_seconds": run.apply_seconds}


def quiet_resync(app, org_id, admin_id):
    """A re-sync with nothing changed, in this process, counting writes to people tables."""
    from sqlalchemy import event
    from webapp.extensions import db
    from webapp.user_sync.engine import lifecycle
    from webapp.user_sync.engine.run import run_sync
    writes = []

    def spy(conn, cursor, statement, parameters, context, executemany):
        head = statement.lstrip()[:60].lower()
        if head.startswith(("insert", "update", "delete")) and any(
                f" {table}" in head for table in PEOPLE_TABLES):
            writes.append(head)
    with app.app_context():
        run, _ = lifecycle.start_run(*load(org_id, admin_id))
        event.listen(db.engine, "before_cursor_execute", spy)
        try:
            started = time.perf_counter()
            run = run_sync(run.id)
            seconds = time.perf_counter() - started
        finally:
            event.remove(db.engine, "before_cursor_execute", spy)
        return {"seconds": seconds, "unchanged": run.unchanged, "writes": len(writes)}


def page_median(app, org_id, email, path, repeats):
    from harness.factory import sign_in
    with app.app_context():
        client = app.test_client()
        sign_in(client, email)
        url = f"/o/{org_id}/settings/user-sync/{path}"
        timings = []
        for attempt in range(repeats + 3):
            started = time.perf_counter()
            response = client.get(url, headers={"HX-Request": "true"} if "people" in path else {})
            elapsed = time.perf_counter() - started
            if response.status_code != 200:
                raise RuntimeError(f"GET {url}: {response.status_code}")
            if attempt >= 3:  # warm-up first
                timings.append(elapsed)
        return statistics.median(timings)


def sample_first_sync(backend, sim, latency_ms):
    """Another first sync of the same tenant, on a database of its own (as a new school's is)."""
    with sync_setup.database(backend) as url:
        app = sync_setup.bench_app(url, sim)
        with app.app_context():
            org, admin = sync_setup.school("Big School", "admin@big.example")
            sync_setup.connect(sim, org, admin)
            ids = (org.id, admin.id)
        sim.control.set_faults(latency_ms=latency_ms)
        try:
            return first_sync(app, *ids)
        finally:
            sim.control.clear_faults()


def median_sample(samples):
    """The median first sync (its own fetch, apply and memory), with the spread of all."""
    ordered = sorted(samples, key=lambda sample: sample["seconds"])
    return {**ordered[len(ordered) // 2], "samples": len(ordered),
            "fastest": ordered[0]["seconds"], "slowest": ordered[-1]["seconds"],
            "peak_mib": max(sample["peak_mib"] for sample in ordered)}


def measure(backend, sim, users, latency_ms, repeats, screens_wanted=True, samples=3):
    with sync_setup.database(backend) as url:
        print(f"bench.sync: {backend} at {url}", file=sys.stderr, flush=True)
        app = sync_setup.bench_app(url, sim)
        with app.app_context():
            org, admin = sync_setup.school("Big School", "admin@big.example")
            small, small_admin = sync_setup.school("Small School", "admin@small.example")
            sync_setup.add_synthetic_people(small, 500)
            sim.control.reset(users=users)
            sync_setup.connect(sim, org, admin)
            ids = (org.id, admin.id, small.id)
        sim.control.set_faults(latency_ms=latency_ms)
        first = first_sync(app, ids[0], ids[1])
        again = quiet_resync(app, ids[0], ids[1])
        sim.control.clear_faults()
        screens, loads = {}, {}
        for label, school, email in (("big", ids[0], "admin@big.example"),
                                     ("small", ids[2], "admin@small.example")):
            if not screens_wanted:
                break
            screens[label] = {
                "page": page_median(app, school, email, SCREEN_QUERY, repeats),
                "partial": page_median(app, school, email, "people" + SCREEN_QUERY, repeats)}
            loads[label] = under_load(app, email, f"/o/{school}/settings/user-sync/")
    others = [sample_first_sync(backend, sim, latency_ms) for _ in range(samples - 1)]
    return {"backend": backend, "users": users, "latency_ms": latency_ms,
            "first": median_sample([first] + others), "again": again, "screens": screens,
            "loads": loads}


def ratio_to_floor(seconds, floor):
    return f" (ratio {seconds / floor:.2f}x)" if floor else ""


def as_rows(result):
    pages = -(-result["users"] // PAGE_SIZE)
    floor = pages * result["latency_ms"] / 1000
    first, again, screens = result["first"], result["again"], result["screens"]
    case = f"{result['backend']}, {result['users']:,} users in nested groups"
    budget = 1.2 * floor + 5
    rows = [
        Row("Sync: first run (real worker)", f"{case}, {result['latency_ms']} ms latency",
            f"{secs(first['seconds'])} (median of {first['samples']}, each on a fresh database: "
            f"{secs(first['fastest'])} to {secs(first['slowest'])})",
            f"Graph floor {pages} pages x {result['latency_ms']} ms = {secs(floor)}"
            f"{ratio_to_floor(first['seconds'], floor)}; "
            f"budget 1.2 x floor + 5 s = {secs(budget)} ({'within' if first['seconds'] <= budget else 'OVER'})",
            f"worker peak RSS {mib(first['peak_mib'])} (highest of the runs)",
            f"{first['added']:,} added; fetch {secs(first['fetch_seconds'])}, "
            f"apply (one transaction) {secs(first['apply_seconds'])}"),
        Row("Sync: re-sync, nothing changed", case, secs(again["seconds"]), "",
            "", f"{again['unchanged']:,} unchanged; {again['writes']} writes to people tables"),
    ]
    if not screens:
        return rows
    big, small = screens["big"], screens["small"]
    rows.append(
        Row("Manage user sync screen", f"{case}: active, by name, page 3",
            f"page {secs(big['page'])}, table partial {secs(big['partial'])}",
            f"500 people: page {secs(small['page'])}, partial {secs(small['partial'])} "
            f"(ratio {big['page'] / small['page']:.2f}x, {big['partial'] / small['partial']:.2f}x)",
            "", "median of repeated requests"))
    for label, people in (("small", "500"), ("big", f"{result['users']:,}")):
        found = result["loads"][label]
        rows.append(Row(
            "Manage user sync page under load", f"{result['backend']}, {people} people; "
            f"gunicorn 2 processes x 4 threads, {found['clients']} clients for {found['seconds']} s",
            f"median {secs(found['median'])}, p95 {secs(found['p95'])}", "", "",
            f"{found['rps']:.1f} requests/s ({found['requests']} requests, {found['errors']} errors)"))
    return rows


def rows(sim, users=50_000, latency_ms=50, backends=("sqlite", "postgresql"), repeats=15,
         screens=True):
    found = []
    for backend in backends:
        found += as_rows(measure(backend, sim, users, latency_ms, repeats, screens))
    return found


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--json", action="store_true", help="also print raw results as JSON")
    return parser.parse_args(argv)


def main(argv=None):
    from bench.table import render
    args = parse_args(argv if argv is not None else sys.argv[1:])
    with sync_setup.running_simulator() as sim:
        results = [measure(b, sim, args.users, args.latency_ms, args.repeats)
                   for b in args.backends.split(",")]
    print(render([row for result in results for row in as_rows(result)]))
    if args.json:
        print(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
