"""Our fetch against Microsoft's Graph SDK for Python (msgraph-sdk + PageIterator).

Both fetch the same group from the same simulator with the same query, each in a fresh
process; the runs alternate so neither gets a warmer simulator.
"""
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from bench.table import Row, mib, secs
from microsoft_simulator import demo

ROOT = Path(__file__).resolve().parent.parent


def run_worker(kind, sim, token):
    env = {**os.environ, "BENCH_GRAPH_URL": sim.env["MICROSOFT_GRAPH_URL"], "BENCH_TOKEN": token,
           "BENCH_CA": sim.ca_path, "BENCH_GROUP_ID": demo.GENERATED_STAFF_GROUP_ID,
           "SSL_CERT_FILE": sim.ca_path, "REQUESTS_CA_BUNDLE": sim.ca_path}
    done = subprocess.run([sys.executable, "-m", "bench.fetch_worker", kind], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise RuntimeError(f"{kind} fetch failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def compare(sim, token, users, latency_ms, repeats=3, sdk_repeats=None):
    """Medians of alternating runs of each implementation, each in a fresh process."""
    sim.control.reset(users=users)
    sim.control.set_faults(latency_ms=latency_ms)
    runs = {"ours": [], "sdk": []}
    for attempt in range(repeats):
        for kind in ("ours", "sdk"):
            if kind == "sdk" and attempt >= (sdk_repeats or repeats):
                continue
            result = run_worker(kind, sim, token)
            if result["users"] != users:
                raise RuntimeError(f"{kind} fetched {result['users']} users, expected {users}")
            runs[kind].append(result)
    sim.control.clear_faults()
    median = {kind: {key: statistics.median(r[key] for r in rs)
                     for key in ("seconds", "peak_rss_mib", "fetch_growth_mib")}
              for kind, rs in runs.items()}
    return {"users": users, "latency_ms": latency_ms, "repeats": repeats,
            "sdk_repeats": len(runs["sdk"]), **median}


def as_row(result):
    ours, sdk = result["ours"], result["sdk"]
    pages = -(-result["users"] // 999)
    return Row(
        "Fetch: ours vs msgraph-sdk PageIterator",
        f"{result['users']:,} users, {result['latency_ms']} ms latency ({pages} pages)",
        f"ours {secs(ours['seconds'])}, SDK {secs(sdk['seconds'])}",
        f"time ratio ours/SDK {ours['seconds'] / sdk['seconds']:.3f}",
        f"peak RSS ours {mib(ours['peak_rss_mib'])}, SDK {mib(sdk['peak_rss_mib'])}; "
        f"fetch growth ours {mib(ours['fetch_growth_mib'])}, SDK {mib(sdk['fetch_growth_mib'])} "
        f"(ratio {ours['fetch_growth_mib'] / max(sdk['fetch_growth_mib'], 0.1):.2f})",
        f"median of {result['repeats']} (SDK {result['sdk_repeats']}) fresh processes")


def rows(sim, token, cases, repeats=3):
    """cases: (users, latency_ms) pairs. The SDK parses ~6 ms per user, so big runs go once."""
    return [as_row(compare(sim, token, users, latency, repeats,
                           sdk_repeats=1 if users > 10_000 else repeats))
            for users, latency in cases]
