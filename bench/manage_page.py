"""Manage user sync for a school of 5,000 people, on PostgreSQL: the page's server time and size.

    python -m bench.manage_page [--people 5000] [--repeats 30]

The school is written with bench/trust.py's INSERT ... SELECT seed (one school of the trust,
30 days of history, a daily schedule), any review it left waiting answered, so the page shows
what it shows on an ordinary day. The people list is paged, so one page of it renders. Times
are server time through the Flask test client in this process (no network): the median and
the slowest of `repeats` requests after three warm-ups, with this process's CPU time for each
(the app's own work, which a busy machine's waits do not inflate) and the load average; the
size is the HTML's bytes as sent (not compressed).
"""
import argparse
import os
import statistics
import time

from sqlalchemy import text

from bench import sync_setup, trust
from bench.table import Row, secs

ADMIN = "admin-all@bench.example"


def seed_school(people, days):
    from webapp.extensions import db
    org_id = trust.seed(schools=1, people=people, days=days)
    from webapp.user_sync.engine import run_facts
    db.session.execute(text("UPDATE sync_runs SET status = 'complete', phase = 'Finished' "
                            "WHERE status = 'needs_review'"))
    run_facts.changed(db.session, [org_id])  # statuses changed by SQL of its own
    db.session.commit()
    return org_id


def measure(app, client, url, repeats):
    """Each request's server time, and this process's CPU time for it (the app's Python,
    without the database's or other processes' share of a busy machine)."""
    timings, cpu, size, statements = [], [], 0, 0
    for attempt in range(repeats + 3):
        cpu_before = time.process_time()
        elapsed, statements, _, response = trust.counted(app, lambda: client.get(url))
        if response.status_code != 200:
            raise RuntimeError(f"GET {url}: {response.status_code}")
        size = len(response.data)
        if attempt >= 3:  # warm-up first
            timings.append(elapsed)
            cpu.append(time.process_time() - cpu_before)
    return timings, cpu, size, statements


def rows(sim, people=5_000, days=30, repeats=30):
    with sync_setup.database("postgresql") as url:
        app = sync_setup.bench_app(url, sim)
        with app.app_context():
            org_id = seed_school(people, days)
        client = trust.signed_in_client(app, ADMIN)
        page = f"/o/{org_id}/settings/user-sync/"
        timings, cpu, size, statements = measure(app, client, page, repeats)
    load = os.getloadavg()[0]
    return [Row("Manage user sync page", f"{people:,} people, {days} days of history, "
                "PostgreSQL, server time (median, slowest)",
                f"{secs(statistics.median(timings))}, {secs(max(timings))}",
                "target < 50 ms and < 30 KB",
                other=f"{size / 1024:.1f} KB of HTML; {statements} SQL statements; app CPU "
                      f"{secs(statistics.median(cpu))} (median); load average {load:.1f}")]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=5_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    from bench.table import render
    with sync_setup.running_simulator() as sim:
        print(render(rows(sim, args.people, args.days, args.repeats)))


if __name__ == "__main__":
    main()
