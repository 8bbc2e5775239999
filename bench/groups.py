"""The group picker at the demo tenant's size and with 20,000 extra groups, on SQLite and PostgreSQL.

    python -m bench.groups [--groups 20000] [--backends sqlite,postgresql] [--repeats 40]

Per database and tenant size: the snapshot job in a real `python -m jobs.worker --burst` process
(the job's own time from RQ, pages fetched, worker peak memory); the picker's search partial (the
request the HTMX search box makes as the admin types) for a query that matches many groups, one
and none (median and p95); and Save group, which re-checks the group with Graph (median).
The larger tenant is compared with the demo tenant's 156 groups.
"""
import argparse
import re
import statistics
import sys
import time
import urllib.parse

from bench import sync_setup
from bench.sync import run_in_worker
from bench.table import Row, mib, secs
from microsoft_simulator import demo

# (label, what the admin typed): many matches at every size, exactly one, none.
QUERIES = (("many", "maths"), ("one", "trust everyone"), ("none", "zzqx"))
SAVED_GROUP = (demo.NORTHFIELD_STAFF_GROUP_ID, "Northfield Staff")
WARM_UP = 3


def picker_url(org_id):
    return f"/o/{org_id}/settings/user-sync/import/microsoft/groups"


def snapshot_in_worker(app, org_id):
    """Queues the snapshot as Refresh groups does, runs it in a real worker, reads what it did."""
    from rq.job import Job
    from webapp.extensions import db
    from webapp.microsoft import groups
    from webapp.microsoft.models import SNAPSHOT_FINISHED, connection_for_organisation
    from webapp.microsoft.groups import request_snapshot
    from webapp.orgs.models import Organisation
    from webapp.redis_conn import get_queue, get_redis
    with app.app_context():
        request_snapshot(connection_for_organisation(db.session.get(Organisation, org_id)))
        (job_id,) = get_queue("quick").job_ids
    started = time.perf_counter()
    peak = run_in_worker(app, None)
    wall = time.perf_counter() - started
    with app.app_context():
        job = Job.fetch(job_id, connection=get_redis(app))
        connection = connection_for_organisation(db.session.get(Organisation, org_id))
        snapshot = groups.snapshot_for(connection)
        if job.get_status() != "finished" or snapshot.status != SNAPSHOT_FINISHED or job.return_value() is not True:
            raise RuntimeError(f"snapshot job ended {job.get_status()}: {snapshot.status} {snapshot.error}")
        return {"seconds": (job.ended_at - job.started_at).total_seconds(), "wall": wall,
                "peak_mib": peak, "pages": snapshot.pages_fetched,
                "stored": groups.snapshot_size(connection)}


VERSION = re.compile(r'name="version" value="([^"]*)"')


def timed(request, samples, prepare=None):
    """(median, p95) seconds of `samples` calls after a warm-up; each call checks its response.
    prepare(), untimed, runs before each call (a browser's page load before its form post)."""
    timings = []
    for attempt in range(WARM_UP + samples):
        if prepare is not None:
            prepare()
        started = time.perf_counter()
        request()
        if attempt >= WARM_UP:
            timings.append(time.perf_counter() - started)
    return statistics.median(timings), statistics.quantiles(timings, n=20, method="inclusive")[18]


def search(app, client, org_id, query, samples):
    from webapp.extensions import db
    from webapp.microsoft import groups
    from webapp.microsoft.models import connection_for_organisation
    from webapp.orgs.models import Organisation
    url = f"{picker_url(org_id)}?part=results&q={urllib.parse.quote(query)}"

    def request():
        response = client.get(url, headers={"HX-Request": "true"})
        if response.status_code != 200 or not response.text.lstrip().startswith("<fieldset"):
            raise RuntimeError(f"GET {url}: {response.status_code}")
    median, p95 = timed(request, samples)
    with app.app_context():
        connection = connection_for_organisation(db.session.get(Organisation, org_id))
        matches = groups.search_groups(connection, query)[1]
    return {"median": median, "p95": p95, "matches": matches, "samples": samples}


def save_group(sim, client, org_id, samples):
    from harness.factory import csrf_token_from
    url = picker_url(org_id)
    form = {}

    def open_picker():
        """As a browser does: the form carries the version of the groups it was drawn from
        (a save of a selection changed since is refused)."""
        page = client.get(url).text
        form.update(csrf_token=csrf_token_from(page), version=VERSION.search(page).group(1))

    def request():
        response = client.post(url, data={**form, "sync": SAVED_GROUP[0], "action": "save"})
        if response.status_code != 302 or not response.location.endswith("/import/microsoft"):
            raise RuntimeError(f"POST {url}: {response.status_code} to {response.location}")
    open_picker()
    sim.control.clear_request_log()
    request()
    graph_requests = len(sim.control.request_log())
    median, _ = timed(request, samples, prepare=open_picker)
    return {"median": median, "graph_requests": graph_requests, "samples": samples}


def measure(backend, sim, extra_groups, repeats):
    from harness.factory import sign_in
    with sync_setup.database(backend) as url:
        print(f"bench.groups: {backend}, {extra_groups:,} extra groups, at {url}", file=sys.stderr, flush=True)
        app = sync_setup.bench_app(url, sim)
        with app.app_context():
            org, admin = sync_setup.school("Picker School", "admin@picker.example")
            total = sim.control.reset(groups=extra_groups)["groups"]
            sync_setup.connect(sim, org, admin, *SAVED_GROUP)
            org_id = org.id
        snapshot = snapshot_in_worker(app, org_id)
        if snapshot["stored"] != total:  # a partial snapshot would make every figure below wrong
            raise RuntimeError(f"snapshot stored {snapshot['stored']:,} of {total:,} groups")
        # Requests outside any app context, as a browser's are: an outer context would share
        # flask.g (the CSRF token, the signed-in user) between requests.
        client = app.test_client()
        sign_in(client, "admin@picker.example")
        searches = {label: search(app, client, org_id, query, repeats) for label, query in QUERIES}
        saves = save_group(sim, client, org_id, max(repeats // 4, 5))
        return {"backend": backend, "groups": total, "snapshot": snapshot, "search": searches,
                "save": saves}


def ratio(big, small):
    return f"ratio {big / small:.2f}x" if small else "ratio n/a"


def snapshot_row(result, small=None):
    found = result["snapshot"]
    compared = "" if small is None else (
        f"{small['groups']:,} groups: {secs(small['snapshot']['seconds'])} "
        f"({ratio(found['seconds'], small['snapshot']['seconds'])})")
    return Row("Groups: snapshot job (real worker)", f"{result['backend']}, {result['groups']:,} groups",
               secs(found["seconds"]), compared, f"worker peak RSS {mib(found['peak_mib'])}",
               f"{found['pages']} {'page' if found['pages'] == 1 else 'pages'} of $top=999, "
               f"{found['stored']:,} groups stored; "
               f"worker process {secs(found['wall'])} with start-up")


def as_rows(small, big):
    """Rows for one database: the snapshot at both sizes, then search and save at the larger
    size compared with the smaller."""
    rows = [snapshot_row(small), snapshot_row(big, small)]
    case = f"{big['backend']}, {big['groups']:,} groups"
    for label, query in QUERIES:
        now, before = big["search"][label], small["search"][label]
        rows.append(Row(
            "Groups: picker search (HTMX partial)",
            f"{case}, “{query}” ({now['matches']:,} {'match' if now['matches'] == 1 else 'matches'})",
            f"median {secs(now['median'])}, p95 {secs(now['p95'])}",
            f"{small['groups']:,} groups ({before['matches']:,}): median {secs(before['median'])}, "
            f"p95 {secs(before['p95'])} ({ratio(now['median'], before['median'])})",
            "", f"{now['samples']} requests after {WARM_UP} warm-up"))
    now, before = big["save"], small["save"]
    rows.append(Row(
        "Groups: Save group (re-checked with Graph)", f"{case}: {SAVED_GROUP[1]}",
        f"median {secs(now['median'])}",
        f"{small['groups']:,} groups: median {secs(before['median'])} "
        f"({ratio(now['median'], before['median'])})",
        "", f"{now['graph_requests']} Graph requests per save; {now['samples']} saves"))
    return rows


def rows(sim, extra_groups=20_000, backends=("sqlite", "postgresql"), repeats=40):
    found = []
    for backend in backends:
        small = measure(backend, sim, 0, repeats)
        found += as_rows(small, measure(backend, sim, extra_groups, repeats))
    sim.control.reset()
    return found


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=20_000, help="extra groups in the large tenant")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--repeats", type=int, default=40, help="search requests per query")
    return parser.parse_args(argv)


def main(argv=None):
    from bench.table import render
    args = parse_args(argv if argv is not None else sys.argv[1:])
    with sync_setup.running_simulator() as sim:
        found = rows(sim, args.groups, tuple(args.backends.split(",")), args.repeats)
    print(render(found))


if __name__ == "__main__":
    main()
