"""Several groups per school: three overlapping groups fetched at once, and their whole sync.

    python -m bench.run --only selection [--quick]

The tenant's generated teams (2,500 people each) make three groups of 8 teams (20,000 people)
that share 2 teams (5,000 people) with the next: A = teams 1-8, B = 7-14, C = 13-20, so the
union is 50,000 people, the same as group D = teams 1-20. At 50 ms latency per request:
- the three groups fetched concurrently (engine.fetch.fetch_selection, the sync's own code)
  against each group fetched alone, their sum and the slowest of them;
- the whole sync of the selection A + B + C against the sync of the single group D, each in a
  real worker on a fresh SQLite and PostgreSQL database.
"""
import statistics
import time

from bench import sync_setup
from bench.simulator_token import access_token
from bench.sync import first_sync
from bench.table import Row, secs
from microsoft_simulator.generator import TEAM_SIZE

TEAM_PREFIX = "f1000000-0000-4000-8000-"


def teams(first, last):
    return [f"{TEAM_PREFIX}{n:012x}" for n in range(first, last + 1)]


def build_groups(sim, team_count):
    """A, B, C (each 8/20 of the union, sharing 2/20 with the next) and D (the union)."""
    sim.control.reset(users=team_count * TEAM_SIZE)
    span, overlap = team_count * 2 // 5, team_count // 10
    starts = [1, 1 + span - overlap, 1 + 2 * (span - overlap)]
    groups = {name: sim.control.create_group(f"Bench {name}", members=teams(s, s + span - 1))
              for name, s in zip("ABC", starts)}
    groups["D"] = sim.control.create_group("Bench D", members=teams(1, starts[2] + span - 1))
    return groups


def clients_for(sim, token, group_ids):
    from webapp.microsoft.graph import GraphClient
    return {gid: GraphClient(sim.env["MICROSOFT_GRAPH_URL"], lambda force_refresh=False: token)
            for gid in group_ids}


def timed_fetch(sim, token, chosen):
    from webapp.user_sync.engine.fetch import fetch_selection
    clients = clients_for(sim, token, [g.id for g in chosen])
    started = time.perf_counter()
    fetched = fetch_selection(clients, chosen)
    return time.perf_counter() - started, len(fetched.users)


def fetch_figures(sim, groups, repeats):
    from webapp.microsoft.selection import SYNC_MEMBERS as SYNC, ChosenGroup
    token = access_token(sim)
    chosen = [ChosenGroup(groups[name], f"Bench {name}", SYNC) for name in "ABC"]
    alone = {g.name: statistics.median(timed_fetch(sim, token, [g])[0] for _ in range(repeats))
             for g in chosen}
    together = [timed_fetch(sim, token, chosen) for _ in range(repeats)]
    return alone, statistics.median(t for t, _ in together), together[0][1]


def sync_figure(backend, sim, group_ids):
    """A first sync of the selection in a real worker, on a fresh database."""
    from webapp.extensions import db
    from webapp.microsoft.selection import GroupChoice
    with sync_setup.database(backend) as url:
        app = sync_setup.bench_app(url, sim)
        with app.app_context():
            org, admin = sync_setup.school("Big School", "admin@big.example")
            sync_setup.connect(sim, org, admin, group_ids[0], "Bench 0")
            for number, group_id in enumerate(group_ids[1:], start=1):
                db.session.add(GroupChoice(organisation_id=org.id, group_id=group_id,
                                           display_name=f"Bench {number}", kind="security"))
            db.session.commit()
            ids = (org.id, admin.id)
        return first_sync(app, *ids)


def rows(sim, team_count=20, latency_ms=50, repeats=3, backends=("sqlite", "postgresql")):
    groups = build_groups(sim, team_count)
    per_group, union = team_count * 2 // 5 * TEAM_SIZE, team_count * TEAM_SIZE
    case = (f"3 groups of {per_group:,} (each sharing {team_count // 10 * TEAM_SIZE:,} with the "
            f"next; {union:,} people in all), {latency_ms} ms latency")
    sim.control.set_faults(latency_ms=latency_ms)
    try:
        alone, together, people = fetch_figures(sim, groups, repeats)
        found = [Row("Selection: fetch 3 groups concurrently", case,
                     f"{secs(together)} (median of {repeats})",
                     f"sum of the 3 alone {secs(sum(alone.values()))} "
                     f"(ratio {together / sum(alone.values()):.2f}x); slowest alone "
                     f"{secs(max(alone.values()))} (ratio {together / max(alone.values()):.2f}x)",
                     "", f"{people:,} people once; alone: "
                     + ", ".join(f"{name} {secs(t)}" for name, t in alone.items()))]
        for backend in backends:
            three = sync_figure(backend, sim, [groups[n] for n in "ABC"])
            one = sync_figure(backend, sim, [groups["D"]])
            found.append(Row(
                "Selection: whole sync (real worker)", f"{backend}, {case}",
                f"{secs(three['seconds'])} (fetch {secs(three['fetch_seconds'])}, apply "
                f"{secs(three['apply_seconds'])})",
                f"one group of {union:,}: {secs(one['seconds'])} (fetch "
                f"{secs(one['fetch_seconds'])}, apply {secs(one['apply_seconds'])}; ratio "
                f"{three['seconds'] / one['seconds']:.2f}x)",
                "", f"{three['added']:,} added (one group: {one['added']:,})"))
        return found
    finally:
        sim.control.clear_faults()
