"""The app started as in production, for a browser test: the Procfile's processes, for real.

`production_stack(workdir, sim, redis_url)` does what a Heroku-style platform does, with the
code the deployment walk-through uses (harness/deploy.py):
- add-ons: a new PostgreSQL database for this test (handed over as a `postgres://` URL, dropped
  afterwards) and the shared Redis, under this test run's key prefix and queue names;
- the environment: app.json's values and generated SECRET_KEY / TOKEN_ENCRYPTION_KEY
  (so ROSTERSYNC_ENV=production, Secure session cookies, scrypt passwords), the simulator as
  the operator's Microsoft app registration, and its CA as REQUESTS_CA_BUNDLE;
- the Procfile's `release` (migrations), then `web` (gunicorn on a free PORT) and app.json's
  formation of `worker`s, each in its own process group; /healthz must answer 200.
`stack.run("flask --app wsgi ...")` is `heroku run`: a one-off process with the same
environment. Everything is stopped (process groups included), the database dropped and the
Redis keys deleted on the way out, whatever happened.

What differs from Heroku: there is no HTTPS router in front of gunicorn; the browser talks to
it over http://127.0.0.1, which Chromium treats as a secure context, so it keeps and sends the
Secure session cookie as it would over HTTPS (checked with Chromium 156). app.json's
PROXY_FIX_X_FOR=1 then finds no X-Forwarded-* headers and changes nothing: the app sees http.
"""
import contextlib
import itertools
import json
from types import SimpleNamespace

from harness import deploy
from tests import services
from harness.app_config import REDIS_NAMES, clear_redis


@contextlib.contextmanager
def production_stack(workdir, sim, redis_url):
    manifest, procfile = deploy.read_manifest(), deploy.read_procfile()
    db_name, database_url = services.create_postgres_database()
    heroku_database_url = database_url.replace("postgresql+psycopg://", "postgres://", 1)
    env = deploy.environment_from_manifest(
        manifest, {"DATABASE_URL": heroku_database_url, "REDIS_URL": redis_url},
        {**deploy.simulated_operator_settings(sim), **REDIS_NAMES})
    workdir.mkdir(parents=True, exist_ok=True)
    processes = deploy.ProcessSet(workdir)
    try:
        base_url, workers, _ = deploy.start_formation(processes, env, manifest, procfile)
        yield SimpleNamespace(base_url=base_url, workers=workers, env=env, processes=processes,
                              run=one_off_runner(processes, env),
                              jobs=lambda: job_lines(processes))
    finally:
        processes.stop_all()
        services.drop_postgres_database(db_name)
        import redis
        clear_redis(redis.Redis.from_url(redis_url), REDIS_NAMES)


def one_off_runner(processes, env):
    """run(command): like `heroku run command`; its output goes to run.N.log, failure raises."""
    counter = itertools.count(1)

    def run(command):
        processes.run_once(f"run.{next(counter)}", command, env)
    return run


def job_lines(processes):
    """Every `"msg": "job"` line the worker processes logged so far, parsed."""
    lines = []
    for name in processes.processes:
        if name.startswith("worker."):
            for line in processes.log_path(name).read_text(errors="replace").splitlines():
                entry = json.loads(line) if line.startswith("{") else {}
                if entry.get("msg") == "job":
                    lines.append(dict(entry, process=name))
    return lines
