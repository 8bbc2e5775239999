"""Sync this person now at 50 ms Graph latency, on PostgreSQL (target: under 5 seconds).

    python -m bench.one_person [--users 5000] [--latency-ms 50] [--repeats 5]

A school whose `users` people are synced in full first, so each person is decided against a real
people table. Then, with every Graph request delayed by the latency (the simulator's
`--latency-ms`, set through its faults), each repeat syncs one new joiner typed by email (added)
and one teacher taken out of their group, by Microsoft id (suspended):
- "job": from start_person_sync (what the POST does) to the outcome committed, running the quick
  job's body in this process (what the worker does);
- "end to end": the same through a real `python -m jobs.worker` already running and waiting,
  as an admin meets it (the POST, the queue, the worker's fork, the job), until the run ended.
Graph requests per sync are counted from the simulator's request log.
"""
import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench import sync_setup
from bench.table import Row, secs
from microsoft_simulator import demo
from microsoft_simulator.generator import team_group_id

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 5.0
TEAM_ONE = team_group_id(1)


def generated_id(i):
    return f"f0000000-0000-4000-8000-{i:012x}"


def first_sync(app, org_id, admin_id):
    from bench.sync import load
    from webapp.user_sync import models as m
    from webapp.user_sync.engine import lifecycle
    from webapp.user_sync.engine.run import run_sync
    with app.app_context():
        run, _ = lifecycle.start_run(*load(org_id, admin_id))
        run = run_sync(run.id)
        if run.status != m.COMPLETE:
            raise RuntimeError(f"first sync ended {run.status}: {run.reason}")
        return run.added


def one_sync_in_process(app, org_id, admin_id, asked):
    """(seconds, the run's outcome words) for the job body run here."""
    from bench.sync import load
    from webapp.user_sync.engine.one_person import run_person_sync, start_person_sync
    with app.app_context():
        org, admin = load(org_id, admin_id)
        started = time.perf_counter()
        run = run_person_sync(start_person_sync(org, admin, asked).id)
        return time.perf_counter() - started, _checked(run)


def one_sync_through_worker(app, org_id, admin_id, asked):
    """(seconds, outcome) from the POST's work to the run's end, a worker already waiting."""
    from bench.sync import load
    from webapp.extensions import db
    from webapp.user_sync import models as m
    from webapp.user_sync.engine.one_person import start_person_sync
    with app.app_context():
        org, admin = load(org_id, admin_id)
        started = time.perf_counter()
        run_id = start_person_sync(org, admin, asked).id
        while True:
            db.session.expire_all()
            run = db.session.get(m.SyncRun, run_id)
            if not run.is_active:
                return time.perf_counter() - started, _checked(run)
            time.sleep(0.01)


def _checked(run):
    if run is None or run.status != "complete":
        raise RuntimeError(f"Sync this person now ended {getattr(run, 'status', None)}: "
                           f"{getattr(run, 'reason', '')}")
    return run.reason


def graph_requests(sim, since):
    return sum(1 for entry in sim.control.request_log() if entry["time"] >= since
               and entry["route"].startswith("/v1.0/"))


def measure(sim, users, latency_ms, repeats):
    from harness.app_config import worker_environment
    with sync_setup.database("postgresql") as url:
        app = sync_setup.bench_app(url, sim)
        sim.control.reset(users=users)
        with app.app_context():
            org, admin = sync_setup.school("Big School", "admin@big.example")
            sync_setup.connect(sim, org, admin)
            ids = (org.id, admin.id)
        added = first_sync(app, *ids)
        worker = subprocess.Popen([sys.executable, "-m", "jobs.worker", "--queues", "quick"],
                                  cwd=ROOT, env=worker_environment(app),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(3)  # the worker has started and waits on the queue
            found = {"in_process": [], "worker": [], "requests": [], "outcomes": set()}
            sim.control.set_faults(latency_ms=latency_ms)
            for i in range(1, repeats + 1):
                _one_round(sim, app, ids, i, found)
        finally:
            sim.control.clear_faults()
            worker.terminate()
            worker.wait(timeout=30)
    return {"users": users, "synced": added, "latency_ms": latency_ms, **found}


def _one_round(sim, app, ids, i, found):
    control = sim.control
    for how, run_it in (("in_process", one_sync_in_process), ("worker", one_sync_through_worker)):
        joiner = f"bench.joiner.{how}.{i}@{demo.TENANT_DOMAIN}"
        control.add_member(TEAM_ONE, control.create_user(
            userPrincipalName=joiner, mail=joiner, displayName=f"Bench Joiner {i}"))
        leaver = generated_id(2 * i + (how == "worker"))
        control.remove_member(TEAM_ONE, leaver)
        for asked in (joiner, leaver):
            since = time.time()
            seconds, outcome = run_it(app, *ids, asked)
            found[how].append(seconds)
            found["requests"].append(graph_requests(sim, since))
            found["outcomes"].add(outcome.split(" ")[0])


def as_rows(result):
    case = (f"postgresql, {result['synced']:,} people synced, {result['latency_ms']} ms Graph "
            "latency; a joiner by email and a leaver by Microsoft id")
    rows = []
    for how, label in (("in_process", "job body in process"), ("worker", "end to end, real worker")):
        timings = result[how]
        worst = max(timings)
        rows.append(Row(f"Sync this person now ({label})", case,
                        f"median {secs(statistics.median(timings))}, max {secs(worst)} "
                        f"({len(timings)} syncs)",
                        f"target under {TARGET_SECONDS:.0f} s "
                        f"({'within' if worst < TARGET_SECONDS else 'OVER'})", "",
                        f"{min(result['requests'])} to {max(result['requests'])} Graph requests "
                        f"each; outcomes: {', '.join(sorted(result['outcomes']))}"))
    return rows


def rows(sim, users=5_000, latency_ms=50, repeats=5):
    return as_rows(measure(sim, users, latency_ms, repeats))


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=5_000)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=5)
    return parser.parse_args(argv)


def main(argv=None):
    from bench.table import render
    args = parse_args(argv if argv is not None else sys.argv[1:])
    with sync_setup.running_simulator() as sim:
        print(render(rows(sim, args.users, args.latency_ms, args.repeats)))


if __name__ == "__main__":
    main()
