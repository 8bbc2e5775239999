"""200 schools of 5,000 people each, all due at 02:00, synced by two real workers against the
simulator at 50 ms latency (issue 11's figure), on PostgreSQL.

    python -m bench.fleet [--schools 200] [--people 5000] [--workers 2] [--latency-ms 50]
                          [--cases catch-up,spread] [--minute-seconds 15]

One trust, one Microsoft connection (connected once, through MSAL), each school choosing its
own "Generated Team" of distinct people and saving "Every day at 02:00" through the real
save_schedule (so each next_due_at is 02:00 plus the school's spread offset). Then:

- catch-up: ONE tick as of 02:31 (`flask sync enqueue-due --as-of`), every slot passed, so all
  schools are queued at once;
- spread: a tick as of every minute 02:00 ... 02:31, each `--minute-seconds` of real time
  apart (60 is real time; less compresses the half hour), while the workers run.

Reported per case: wall time from the (first) tick to the last run finished, runs complete /
failed / needs review, peak Graph requests per second (1-second windows of the simulator's
counter) and the mean, and the checks: every school exactly one automatic run and its team's
active people. The simulated day is tomorrow (Europe/London), so moments stay in the future.
"""
import argparse
import statistics
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from datetime import time as time_of_day
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bench import sync_setup
from bench.fleet_processes import LAST_MINUTE, run_tick, running_workers, tick_every_minute
from bench.graph_rate import GraphRate
from bench.table import Row, mib, secs
from microsoft_simulator.control import SimulatorControl
from microsoft_simulator.generator import team_group_id
from webapp.clock import as_utc
from webapp.extensions import db
from webapp.microsoft.selection import GroupChoice
from webapp.orgs.services import create_organisation
from webapp.schedule.models import SyncSchedule
from webapp.schedule.services import save_schedule
from webapp.user_sync import models as m

LONDON = ZoneInfo("Europe/London")
DISABLED_EVERY = 211  # the generator disables every 211th account; a sync skips those
CATCH_UP, SPREAD = "catch-up", "spread"
FIRST_NIGHT, NEXT_NIGHT = "first night: first syncs", "next night: nothing changed"


def two_am_tomorrow():
    local_day = datetime.now(timezone.utc).astimezone(LONDON).date() + timedelta(days=1)
    return datetime.combine(local_day, time_of_day(2, 0), tzinfo=LONDON).astimezone(timezone.utc)


def expected_active(team_no, people):
    first = (team_no - 1) * people
    return sum(1 for i in range(first, first + people) if i % DISABLED_EVERY)


def seed(sim, schools, before):
    """The trust, its connection and its schools, each with its team and a daily 02:00
    schedule saved as of `before`. Returns {organisation id: team number}."""
    first, admin = sync_setup.school("Fleet School 001", "admin@fleet.example")
    sync_setup.connect(sim, first, admin, team_group_id(1), "Generated Team 001")
    teams = {first.id: 1}
    organisations = [first]
    for team_no in range(2, schools + 1):
        org = create_organisation(f"Fleet School {team_no:03d}", first.trust.name)
        db.session.add(GroupChoice(organisation_id=org.id, group_id=team_group_id(team_no),
                                   display_name=f"Generated Team {team_no:03d}", kind="security"))
        teams[org.id] = team_no
        organisations.append(org)
    db.session.commit()
    for org in organisations:
        save_schedule(org, "daily", "02:00", now=before)
    return teams


def due_window(two_am):
    """(earliest, latest) next_due_at: the spread offsets as the real code computed them."""
    low, high = db.session.execute(select(func.min(SyncSchedule.next_due_at),
                                          func.max(SyncSchedule.next_due_at))).one()
    low, high = as_utc(low), as_utc(high)
    assert two_am <= low <= high < two_am + timedelta(minutes=30), (two_am, low, high)
    return low - two_am, high - two_am


def wait_until_ended(schools, after_run_id, timeout=3 * 3600):
    """Until `schools` runs newer than after_run_id exist and none of them is still active."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.rollback()  # a fresh snapshot each poll
        by_status = dict(db.session.execute(select(m.SyncRun.status, func.count()).where(
            m.SyncRun.id > after_run_id).group_by(m.SyncRun.status)).all())
        active = sum(by_status.get(status, 0) for status in m.ACTIVE_STATES)
        if not active and sum(by_status.values()) >= schools:
            return
        time.sleep(0.5)
    raise RuntimeError(f"runs still active after {timeout} s: {by_status}")


def known(values):
    return [value for value in values if value is not None] or [0.0]


def last_run_id():
    return db.session.scalar(select(func.max(m.SyncRun.id))) or 0


def outcome(teams, people, after_run_id):
    """What the database says this night did: runs per school, statuses, people, timings."""
    db.session.rollback()
    runs = db.session.scalars(select(m.SyncRun).where(m.SyncRun.id > after_run_id)).all()
    per_school = Counter(run.organisation_id for run in runs if run.is_automatic)
    active = dict(db.session.execute(select(m.SyncedPerson.organisation_id, func.count()).where(
        m.SyncedPerson.status == "active").group_by(m.SyncedPerson.organisation_id)).all())
    return {
        "statuses": Counter(run.status for run in runs),
        "manual": sum(1 for run in runs if not run.is_automatic),
        "ran_once": sum(1 for org in teams if per_school.get(org) == 1),
        "ran_twice": sum(1 for count in per_school.values() if count > 1),
        "people_right": sum(1 for org, team in teams.items()
                            if active.get(org) == expected_active(team, people)),
        "added": sum(run.added or 0 for run in runs),
        "failures": sorted({run.reason for run in runs if run.status == m.FAILED})[:3],
        "durations": known(run.duration_seconds for run in runs),
        "fetches": known(run.fetch_seconds for run in runs),
        "applies": known(run.apply_seconds for run in runs),
        **real_clock_timings(runs),
    }


def real_clock_timings(runs):
    """Each run's wait for a worker and when the last one ended, on the real clock (RQ's record
    of the jobs). The runs' own times are on the tick's clock: a night run `--as-of` 02:00
    is queued at a simulated 02:00 and finishes at a simulated 02:xx."""
    from rq.job import Job

    from webapp.redis_conn import get_redis
    jobs = [job for job in Job.fetch_many([run.rq_job_id for run in runs],
                                          connection=get_redis()) if job and job.ended_at]
    return {"waits": known((job.started_at - job.enqueued_at).total_seconds() for job in jobs),
            "last_finished": max(as_utc(job.ended_at).timestamp() for job in jobs)}


def measure_night(app, sim, teams, people, night, ticking):
    """Runs `ticking()` (the tick or ticks) with the workers running; what happened, timed."""
    with app.app_context():
        before = last_run_id()
    with GraphRate(sim) as rate:
        started = time.time()
        ticks = ticking()
        with app.app_context():
            wait_until_ended(len(teams), before)
    with app.app_context():
        found = outcome(teams, people, before)
    requests = rate.count_at(found["last_finished"] + 0.25) - rate.count_at(started)
    return {**found, "night": night, "ticks": ticks, "wall": found["last_finished"] - started,
            "peak": rate.peak(), "requests": requests}


def run_case(sim, case, schools, people, workers, latency_ms, minute_seconds, log_dir):
    """catch-up: the first night (first syncs), then the next night (nothing changed);
    spread: the first night, a tick every simulated minute."""
    two_am = two_am_tomorrow()
    nights = []
    with sync_setup.database("postgresql") as url:
        app = sync_setup.bench_app(url, sim)
        with app.app_context():
            teams = seed(sim, schools, before=two_am - timedelta(hours=12))
            window = due_window(two_am)
        sim.control.set_faults(latency_ms=latency_ms)
        try:
            with running_workers(app, workers, log_dir):
                if case == SPREAD:
                    nights.append(measure_night(app, sim, teams, people, FIRST_NIGHT, lambda: (
                        tick_every_minute(app, two_am, minute_seconds))))
                else:
                    for night, day in ((FIRST_NIGHT, 0), (NEXT_NIGHT, 1)):
                        as_of = two_am + timedelta(days=day, minutes=LAST_MINUTE)
                        nights.append(measure_night(app, sim, teams, people, night,
                                                    lambda: [run_tick(app, as_of)]))
        finally:
            sim.control.clear_faults()
    common = {"case": case, "schools": schools, "people": people, "workers": workers,
              "latency_ms": latency_ms, "minute_seconds": minute_seconds, "window": window,
              "simulator_mib": peak_rss_mib(sim.pid)}
    return [{**night, **common} for night in nights]


def peak_rss_mib(pid):
    """The process's peak resident memory (VmHWM), e.g. the simulator holding the tenant."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def clock(offset):
    """02:00 plus a spread offset, as the admin's clock reads it."""
    minutes, seconds = divmod(int(offset.total_seconds()), 60)
    return f"02:{minutes:02d}:{seconds:02d}"


def as_row(result):
    r, statuses = result, result["statuses"]
    ticks = r["ticks"]
    if r["case"] == CATCH_UP:
        how = (f"one tick as of 02:31 queued {ticks[0][0]} at once ({secs(ticks[0][2])}), "
               f"{r['night']}")
    else:
        how = (f"a tick per simulated minute 02:00-02:31, {r['minute_seconds']:g} s real apart "
               f"({60 / r['minute_seconds']:g}x compressed); at most {max(t[0] for t in ticks)} "
               f"queued by one tick, {r['night']}")
    median, requeued = statistics.median, sum(t[1] for t in ticks)
    checks = (f"every school ran once: {'yes' if r['ran_once'] == r['schools'] else 'NO'} "
              f"({r['ran_once']} of {r['schools']}, {r['ran_twice']} twice, {r['manual']} manual); "
              f"{r['people_right']} of {r['schools']} schools hold their team's active people")
    return Row(
        f"Fleet: {r['case']}",
        f"{r['schools']} schools x {r['people']:,} people at 02:00 (due {clock(r['window'][0])} to "
        f"{clock(r['window'][1])} after spreading), one trust, {r['workers']} workers, "
        f"{r['latency_ms']} ms latency, PostgreSQL; {how}",
        f"{secs(r['wall'])} tick to last run finished",
        f"sum of run times / {r['workers']} workers = {secs(sum(r['durations']) / r['workers'])}; "
        f"run median {secs(median(r['durations']))} (fetch {secs(median(r['fetches']))}, "
        f"apply {secs(median(r['applies']))}); longest wait for a worker {secs(max(r['waits']))}",
        f"simulator peak RSS {mib(r['simulator_mib'])} ({r['schools'] * r['people']:,} users)",
        f"peak {r['peak']:.1f} Graph req/s, mean {r['requests'] / r['wall']:.1f} "
        f"({r['requests']:,} requests); {statuses.get('complete', 0)} complete "
        f"({r['added']:,} people added), "
        f"{statuses.get('failed', 0)} failed, {statuses.get('needs_review', 0)} needs review; "
        f"{checks}" + (f"; {requeued} runs re-enqueued by a tick" if requeued else "")
        + (f"; failures: {r['failures']}" if r["failures"] else ""))


def rows(sim, schools=200, people=5_000, workers=2, latency_ms=50, minute_seconds=15,
         cases=(CATCH_UP, SPREAD)):
    import tempfile
    # Building a million users takes longer than the control client's usual 30 s.
    SimulatorControl(sim.base_url, sim.ca_path, timeout=900).reset(users=schools * people,
                                                                   team_size=people)
    found = []
    try:
        with tempfile.TemporaryDirectory(prefix="rostersync-fleet-") as log_dir:
            for case in cases:
                for result in run_case(sim, case, schools, people, workers, latency_ms,
                                       minute_seconds, log_dir):
                    found.append(as_row(result))
                    print(f"bench.fleet: {found[-1].other}", file=sys.stderr, flush=True)
    finally:
        sim.control.reset()  # the demo tenant again (and a gigabyte back)
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schools", type=int, default=200)
    parser.add_argument("--people", type=int, default=5_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--minute-seconds", type=float, default=15.0)
    parser.add_argument("--cases", default=f"{CATCH_UP},{SPREAD}")
    args = parser.parse_args(argv if argv is not None else sys.argv[1:])
    from bench.table import render
    with sync_setup.running_simulator() as sim:
        print(render(rows(sim, args.schools, args.people, args.workers, args.latency_ms,
                          args.minute_seconds, tuple(args.cases.split(",")))))


if __name__ == "__main__":
    main()
