"""One automatic-sync tick over 10,000 schools of which 1,000 are due, on PostgreSQL.

    python -m bench.schedule [--schools 10000] [--due 1000]

Reports the tick's wall time and its SQL statements (every cursor execute counted), plus a
second tick as of the same moment (nothing left to claim). The due schools share one trust's
Microsoft connection; their runs are queued in Redis and never run (no worker here).
"""
import argparse
import time
from datetime import timedelta

from sqlalchemy import event, insert

from bench import sync_setup
from bench.table import Row, secs


def seed(schools, due, now):
    from webapp.extensions import db
    from webapp.microsoft.models import MicrosoftConnection
    from webapp.microsoft.selection import GroupChoice
    from webapp.orgs.models import Organisation, Trust
    from webapp.schedule.models import SyncSchedule
    trust = Trust(name="Bench Trust")
    db.session.add(trust)
    db.session.commit()
    db.session.add(MicrosoftConnection(trust_id=trust.id, account_email="sync@bench.example",
                                       account_object_id="bench", tenant_id="bench",
                                       home_account_id="bench.bench"))
    db.session.execute(insert(Organisation), [
        {"name": f"Bench School {n:05d}", "trust_id": trust.id, "time_zone": "Europe/London"}
        for n in range(schools)])
    ids = [org.id for org in db.session.query(Organisation.id).order_by(Organisation.id)]
    db.session.execute(insert(GroupChoice), [
        {"organisation_id": org_id, "group_id": "bench-group", "display_name": "Staff",
         "kind": "security"} for org_id in ids])
    db.session.execute(insert(SyncSchedule), [
        {"organisation_id": org_id, "frequency": "daily", "minute_of_day": 120, "failures": 0,
         "enabled_at": now - timedelta(days=1), "updated_at": now,
         "next_due_at": now - timedelta(minutes=1) if index < due else now + timedelta(hours=3)}
        for index, org_id in enumerate(ids)])
    db.session.commit()


def measure_tick(now):
    from webapp.extensions import db
    from webapp.schedule.tick import tick
    statements = {"count": 0}

    def count(*_):
        statements["count"] += 1
    event.listen(db.engine, "before_cursor_execute", count)
    started = time.perf_counter()
    lines = tick(now)
    elapsed = time.perf_counter() - started
    event.remove(db.engine, "before_cursor_execute", count)
    return elapsed, statements["count"], lines


def rows(sim, schools=10_000, due=1_000):
    from webapp.clock import utcnow
    found = []
    with sync_setup.database("postgresql") as url:
        app = sync_setup.bench_app(url, sim)
        with app.app_context():
            now = utcnow()
            seed(schools, due, now)
            elapsed, queries, lines = measure_tick(now)
            queued = sum(1 for line in lines if line.action == "queued")
            assert queued == due, f"{queued} of {due} due schools queued"
            found.append(Row("tick", f"{schools:,} schools, {due:,} due (PostgreSQL)",
                             secs(elapsed), "target < 1 s",
                             other=f"{queries:,} SQL statements; {queued:,} queued"))
            elapsed, queries, lines = measure_tick(now)
            found.append(Row("tick", "the same moment again (nothing left to claim)",
                             secs(elapsed), other=f"{queries:,} SQL statements; "
                             f"{sum(1 for line in lines if line.action == 'queued')} queued"))
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schools", type=int, default=10_000)
    parser.add_argument("--due", type=int, default=1_000)
    args = parser.parse_args()
    from bench.table import render
    with sync_setup.running_simulator() as sim:
        print(render(rows(sim, args.schools, args.due)))


if __name__ == "__main__":
    main()
