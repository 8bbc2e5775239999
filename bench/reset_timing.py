"""Forgot your password, and a refused sign-in, take the same time whether or not the address
has an account.

    python -m bench.reset_timing [--samples 300] [--redis redis://127.0.0.1:6379/0]

Posts the form for an address with an account and for one without, interleaved, through the
app's own request handling (SQLite, the given Redis, rate limits raised out of the way), and
reports each one's median and p95 and the difference of the medians. The request only counts
and queues a job in both cases; the lookup happens in the job, which is not timed here.
"""
import argparse
import statistics
import sys
import tempfile
import time
import uuid

from bench.table import Row, render


def _app(database_url, redis_url, **settings):
    from harness.app_config import make_test_config
    from webapp import create_app
    prefix = f"rostersync-bench-{uuid.uuid4().hex[:8]}"
    return create_app(make_test_config(
        database_url, redis_url, REDIS_KEY_PREFIX=f"{prefix}:", QUEUE_QUICK=f"{prefix}-quick",
        QUEUE_SYNC=f"{prefix}-sync", LOG_LEVEL="WARNING", PASSWORD_RESETS_PER_ACCOUNT=1000,
        PASSWORD_RESETS_PER_ADDRESS=100000, **settings))


def _interleaved(app, page, samples, fields, expected_status):
    """Posts the form of `page` for an address with an account and for one without, in turn,
    `samples` times each: {"account": [seconds], "no account": [seconds]}."""
    from harness.factory import Factory, csrf_token_from
    from webapp.extensions import db
    db.create_all()
    Factory().user("known@school.example", [Factory().organisation("Bench School")])
    client = app.test_client()
    token = csrf_token_from(client.get(page).text)
    found = {"account": [], "no account": []}
    for n in range(samples):
        for label, email in (("account", "known@school.example"),
                             ("no account", f"nobody{n % 3}@school.example")):
            started = time.perf_counter()
            answer = client.post(page, data={"email": email, "csrf_token": token, **fields})
            found[label].append(time.perf_counter() - started)
            assert answer.status_code == expected_status, answer.status_code
    return found


def _sign_in_timings(app, samples):
    """A wrong password, with production's password hashing (scrypt), lock-outs raised out of
    the way."""
    return _interleaved(app, "/login", samples, {"password": "wrong password"}, 401)


def _timings(app, samples):
    from webapp.redis_conn import get_queue
    found = _interleaved(app, "/forgot-password", samples, {}, 303)
    get_queue("quick", app).empty()
    return found


def rows(samples=300, redis_url="redis://127.0.0.1:6379/0", sign_in_samples=40):
    with tempfile.TemporaryDirectory(prefix="rostersync-bench-reset-") as folder:
        app = _app(f"sqlite:///{folder}/bench.sqlite3", redis_url)
        with app.app_context():
            found = _timings(app, samples)
        signing_in = _app(f"sqlite:///{folder}/sign-in.sqlite3", redis_url,
                          PASSWORD_HASH_METHOD="scrypt", LOGIN_FAILURES_PER_ACCOUNT=100000,
                          LOGIN_FAILURES_PER_ADDRESS=100000)
        with signing_in.app_context():
            refused = _sign_in_timings(signing_in, sign_in_samples)
    return (_compared("Forgot your password", found, samples)
            + _compared("Sign in, wrong password (scrypt)", refused, sign_in_samples))


def _compared(benchmark, found, samples):
    medians = {label: statistics.median(values) for label, values in found.items()}
    table = []
    for label, values in found.items():
        p95 = statistics.quantiles(values, n=20)[-1]
        table.append(Row(benchmark, f"address with {label}",
                         f"{medians[label] * 1000:.1f} ms median",
                         other=f"p95 {p95 * 1000:.1f} ms, {samples} requests"))
    difference = medians["account"] - medians["no account"]
    table.append(Row(benchmark, "difference of the medians", f"{difference * 1000:+.2f} ms"))
    return table


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args(argv if argv is not None else sys.argv[1:])
    print(render(rows(args.samples, args.redis)))


if __name__ == "__main__":
    main()
