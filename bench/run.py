"""`make bench`: every benchmark in one run, printed as one table.

    python -m bench.run [--quick]
        [--only fetch,sync,groups,schedule,fleet,selection,trust,accounts,one_person,manage_page]

--quick measures the small cases only (minutes instead of tens of minutes).
"""
import argparse
import os
import sys
import tempfile
import time

from bench import fetch_compare
from bench.simulator_token import access_token
from bench.table import render
from harness.simulator import SimulatorProcess

SECTIONS = ("fetch", "sync", "groups", "schedule", "fleet", "selection", "trust", "accounts",
            "one_person", "manage_page")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small cases only")
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help=f"comma-separated sections: {', '.join(SECTIONS)}")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    unknown = set(args.only.split(",")) - set(SECTIONS)
    if unknown:  # a misspelt section would otherwise measure nothing, silently
        parser.error(f"unknown section(s) {', '.join(sorted(unknown))}; "
                     f"choose from {', '.join(SECTIONS)}")
    return args


def fetch_rows(sim, args):
    token = access_token(sim)
    cases = [(5_000, 0)] if args.quick else [(5_000, 0), (5_000, 50), (50_000, 0)]
    return fetch_compare.rows(sim, token, cases, repeats=args.repeats)


def sync_rows(sim, args):
    """Full syncs at each size and latency; the screens (and the load test) at the largest."""
    from bench import sync
    cases = [(5_000, 0), (5_000, 50)] if args.quick else [
        (5_000, 0), (5_000, 50), (50_000, 0), (50_000, 50)]
    found = []
    for users, latency in cases:
        rows = sync.rows(sim, users=users, latency_ms=latency, repeats=max(args.repeats, 5),
                         screens=(users, latency) == cases[-1])
        print(render(rows), file=sys.stderr, flush=True)  # a long run's figures so far
        found += rows
    return found


def groups_rows(sim, args):
    """The group picker: demo tenant (156 groups) against 20,000 extra (2,000 with --quick)."""
    from bench import groups
    return groups.rows(sim, extra_groups=2_000 if args.quick else 20_000,
                       repeats=15 if args.quick else 40)


def schedule_rows(sim, args):
    """One automatic-sync tick over 10,000 schools, 1,000 due (PostgreSQL)."""
    from bench import schedule
    return schedule.rows(sim, schools=2_000 if args.quick else 10_000,
                         due=200 if args.quick else 1_000)


def fleet_rows(sim, args):
    """200 schools x 5,000 people due at 02:00, two workers, 50 ms (20 x 1,000 with --quick)."""
    from bench import fleet
    if args.quick:
        return fleet.rows(sim, schools=20, people=1_000, minute_seconds=2)
    return fleet.rows(sim, schools=200, people=5_000, minute_seconds=15)


def selection_rows(sim, args):
    """Several groups per school: 3 groups of 20,000 (10,000 with --quick), bench/selection.py."""
    from bench import selection
    return selection.rows(sim, team_count=10 if args.quick else 20, repeats=args.repeats)


def trust_rows(sim, args):
    """The Schools page: 500 schools x 5,000 people, 30 days (50 x 1,000 with --quick)."""
    from bench import trust
    if args.quick:
        return trust.rows(sim, schools=50, people=1_000, days=30, repeats=max(args.repeats, 5))
    return trust.rows(sim, schools=500, people=5_000, days=30, repeats=max(args.repeats, 15))


def accounts_rows(sim, args):
    """Forgot your password and a refused sign-in, with and without an account: the same time
    (bench/reset_timing.py)."""
    from bench import reset_timing
    return reset_timing.rows(samples=100 if args.quick else 300,
                             sign_in_samples=15 if args.quick else 40,
                             redis_url=os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0"))


def one_person_rows(sim, args):
    """Sync this person now at 50 ms Graph latency against a 5,000-person school
    (1,000 with --quick), bench/one_person.py."""
    from bench import one_person
    return one_person.rows(sim, users=1_000 if args.quick else 5_000, latency_ms=50,
                           repeats=args.repeats)


def manage_page_rows(sim, args):
    """Manage user sync at 5,000 people (1,000 with --quick): server time and size,
    bench/manage_page.py."""
    from bench import manage_page
    return manage_page.rows(sim, people=1_000 if args.quick else 5_000,
                            repeats=10 if args.quick else 30)


SECTION_ROWS = {"fetch": fetch_rows, "sync": sync_rows, "groups": groups_rows,
                "schedule": schedule_rows, "fleet": fleet_rows, "selection": selection_rows,
                "trust": trust_rows, "accounts": accounts_rows, "one_person": one_person_rows,
                "manage_page": manage_page_rows}


def main(argv=None):
    args = parse_args(argv if argv is not None else sys.argv[1:])
    wanted = set(args.only.split(","))
    rows, started = [], time.monotonic()
    with tempfile.TemporaryDirectory(prefix="rostersync-bench-") as state_dir:
        with SimulatorProcess(state_dir=state_dir) as sim:
            os.environ["REQUESTS_CA_BUNDLE"] = sim.ca_path
            for name in SECTIONS:  # in this order, whatever the order asked
                if name in wanted:
                    rows += SECTION_ROWS[name](sim, args)
    print(f"\nrostersync benchmarks ({time.monotonic() - started:.0f} s, {os.cpu_count()} CPUs, "
          f"Python {sys.version.split()[0]})\n")
    print(render(rows))


if __name__ == "__main__":
    main()
