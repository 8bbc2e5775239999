"""Simulates a fresh Heroku-style deployment on this machine, from app.json and the Procfile.

    python -m scripts.walkthrough_deploy [--keep-running]

What it does, in the order an operator does it (README: Deploying, production checklist):
  1. provisions the add-ons: a new PostgreSQL database (handed over as a postgres:// URL, as
     Heroku does) and a Redis that only speaks TLS with a self-signed certificate (rediss://);
  2. sets every app.json variable: generated secrets, the given values, and the operator's own
     (MICROSOFT_CLIENT_ID, ...);
  3. runs the Procfile `release` command (migrations), then the `web` command (gunicorn) and as
     many `worker` processes as app.json's formation asks for;
  4. waits for /healthz, creates a school and its admin with the CLI (`heroku run ...`), signs in
     over HTTP as the router would forward it, connects to Microsoft (the simulator), chooses a
     group and presses Sync now (the sync runs on a worker);
  5. rotates TOKEN_ENCRYPTION_KEY as the README says and syncs again with the new key alone;
  6. runs more jobs on both workers and checks every log line is JSON, with ids, without secrets.
Exits non-zero, naming the step, if anything fails. Needs PostgreSQL (WALKTHROUGH_POSTGRES_URL,
default postgresql://postgres@127.0.0.1:5432/postgres) and /usr/bin/redis-server.
"""
import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from pathlib import Path

import psycopg
import requests

from harness import deploy
from harness.deploy import ProcessSet, wait_for_health
from harness.redis_servers import TlsRedisServer

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = os.environ.get("WALKTHROUGH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
SCHOOL, ADMIN_PASSWORD = "Walkthrough Academy", "Walk-through-1"
ADMIN_EMAIL = "it-sync@oaklearning.example"  # the simulated tenant's sync account


def step(message):
    print(f"==> {message}", flush=True)


def create_database():
    name = f"rostersync_walkthrough_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = ADMIN_URL.rsplit("/", 1)[0]
    return name, f"{base}/{name}".replace("postgresql://", "postgres://", 1)


def drop_database(name):
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class RouterClient:
    """Talks to the web process the way the Heroku router forwards a browser's HTTPS request.

    The app sets Secure cookies in production; over this plain-HTTP hop they are carried by hand.
    A browser sends the page it posts from as Referer; CSRF protection over HTTPS checks it.
    """

    def __init__(self, base_url):
        self.base_url, self.cookies = base_url, {}
        self.headers = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}

    def request(self, method, path, **kwargs):
        headers = dict(self.headers, **kwargs.pop("headers", {}))
        headers.setdefault("Referer", "https://" + self.base_url.split("://", 1)[1] + path)
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        response = requests.request(method, self.base_url + path, headers=headers,
                                    allow_redirects=False, timeout=30, **kwargs)
        self.cookies.update(response.cookies.get_dict())
        return response


def sign_in(base_url):
    """Returns the client (now signed in), the school's path and the last request id."""
    import re
    client = RouterClient(base_url)
    page = client.request("GET", "/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = client.request("POST", "/login", data={
        "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "csrf_token": token})
    assert response.status_code == 302, f"sign-in answered {response.status_code}"
    assert "Secure" in response.headers.get("Set-Cookie", ""), "session cookie is not Secure"
    path = response.headers["Location"]
    home = client.request("GET", path)
    while home.status_code == 302:
        path = home.headers["Location"]
        home = client.request("GET", path)
    assert home.status_code == 200 and SCHOOL in home.text, f"home page: {home.status_code}"
    return client, urllib.parse.urlsplit(path).path, home.headers.get("X-Request-ID")


def run_jobs_on_workers(env, expected_workers):
    """Like `heroku run`: a one-off process with the app's environment enqueues and waits."""
    result = subprocess.run([sys.executable, "-m", "scripts.walkthrough_deploy", "--check-workers",
                             str(expected_workers)], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"worker check failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def process_exists(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def check_workers(expected_workers, count=6):
    """Enqueues quick jobs through the app's own helper and waits for the workers to run them."""
    from rq import Worker
    from jobs.diagnostics import count_people
    from webapp import create_app
    from webapp.redis_conn import enqueue, get_redis
    app = create_app()
    with app.app_context():
        # A worker killed after its stop timeout (a busy machine) leaves its registration behind
        # until RQ's worker TTL; this walk-through runs every process here, so count live ones.
        workers = [w for w in Worker.all(connection=get_redis())
                   if app.config["QUEUE_SYNC"] in w.queue_names() and process_exists(w.pid)]
        assert len(workers) == expected_workers, f"{len(workers)} workers registered in Redis"
        jobs = [enqueue("quick", count_people, 1) for _ in range(count)]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and any(j.get_status(refresh=True) != "finished"
                                                  for j in jobs):
            time.sleep(0.2)
        statuses = [j.get_status(refresh=True) for j in jobs]
        assert statuses == ["finished"] * count, f"job statuses: {statuses}"
        return {"finished": len(jobs), "registered": len(workers)}


def check_tls_is_real(redis_server, env):
    from webapp.config import ConfigError
    from webapp.redis_conn import check_redis
    from types import SimpleNamespace
    strict = SimpleNamespace(config={"REDIS_URL": env["REDIS_URL"]}, extensions={})
    try:
        check_redis(strict)
    except ConfigError:
        return "a verifying client without the CA is refused (self-signed certificate)"
    raise AssertionError("Redis accepted a verifying client: the certificate is not self-signed")


def start_formation(manifest, procfile, processes, env):
    """Release, then the web and worker processes app.json's formation asks for."""
    base_url, worker_count, health = deploy.start_formation(processes, env, manifest, procfile,
                                                            say=step)
    print(f"    /healthz: {json.dumps(health)}")
    return base_url, worker_count


def create_first_admin(processes, env):
    step("heroku run: create the first school and its admin")
    flask = "flask --app wsgi"
    processes.run_once("run.1", f'{flask} org create "{SCHOOL}" --trust "Oak Learning Trust"', env)
    processes.run_once("run.2", f"{flask} user create {ADMIN_EMAIL} --password "
                                f"{shlex.quote(ADMIN_PASSWORD)} --org {shlex.quote(SCHOOL)} --admin",
                       env)


def use_the_product(base_url, sim):
    from scripts import walkthrough_microsoft as microsoft
    step("Sign in through the router (HTTPS forwarded, Secure cookies)")
    client, org_path, request_id = sign_in(base_url)
    print(f"    signed in as {ADMIN_EMAIL}; request id {request_id}")
    step("Connect with Microsoft (simulated tenant), choose Northfield Staff")
    microsoft.connect(client, org_path, sim)
    microsoft.choose_group(client, org_path)
    step("Sync now: the sync runs on a worker; the page follows its progress")
    print(f"    {microsoft.sync_now(client, org_path)}")
    return client, org_path, request_id


def rotate_token_key(processes, env, base_url, client, org_path):
    """The README's rotation: new key first, re-encrypt, then the new key alone, and sync again."""
    from scripts import walkthrough_microsoft as microsoft
    step("Rotate TOKEN_ENCRYPTION_KEY: new key first, rotate-token-cache, then the new key alone")
    old = env["TOKEN_ENCRYPTION_KEY"]
    new = processes.output_of("flask --app wsgi keys generate --only TOKEN_ENCRYPTION_KEY", env)
    processes.restart_all(TOKEN_ENCRYPTION_KEY=f"{new},{old}")
    rotated = processes.output_of("flask --app wsgi keys rotate-token-cache",
                                  dict(env, TOKEN_ENCRYPTION_KEY=f"{new},{old}"))
    print(f"    {rotated}")
    processes.restart_all(TOKEN_ENCRYPTION_KEY=new)
    wait_for_health(base_url, processes)
    print(f"    with the new key only: {microsoft.sync_now(client, org_path)}")
    return dict(env, TOKEN_ENCRYPTION_KEY=new)


def walkthrough(keep_running=False, keep_logs=False):
    from harness.simulator import SimulatorProcess
    manifest = deploy.read_manifest()
    procfile = deploy.read_procfile()
    workdir = Path(tempfile.mkdtemp(prefix="rostersync-walkthrough-"))
    db_name, passed = None, False
    with TlsRedisServer(workdir / "redis") as redis_server, \
            SimulatorProcess(workdir / "microsoft") as sim, ProcessSet(workdir) as processes:
        try:
            step("Add-ons: PostgreSQL database and Redis with TLS (self-signed certificate)")
            db_name, database_url = create_database()
            operator = deploy.simulated_operator_settings(sim)
            env = deploy.environment_from_manifest(manifest, {"DATABASE_URL": database_url,
                                                       "REDIS_URL": redis_server.url}, operator)
            print(f"    DATABASE_URL=postgres://…/{db_name}  REDIS_URL={redis_server.url}")
            print(f"    {check_tls_is_real(redis_server, env)}")
            base_url, worker_count = start_formation(manifest, procfile, processes, env)
            create_first_admin(processes, env)
            client, org_path, request_id = use_the_product(base_url, sim)
            old_key = env["TOKEN_ENCRYPTION_KEY"]
            env = rotate_token_key(processes, env, base_url, client, org_path)
            step("More jobs on the workers over rediss://")
            outcome = run_jobs_on_workers(env, worker_count)
            print(f"    {outcome['registered']} workers registered in Redis; "
                  f"{outcome['finished']} jobs finished")
            step("Logs: one JSON line per request and per job, with ids, no secrets")
            secrets_to_hide = [operator["MICROSOFT_CLIENT_SECRET"], ADMIN_PASSWORD, env["SECRET_KEY"],
                               old_key, env["TOKEN_ENCRYPTION_KEY"]]
            print("    " + processes.check_logs(request_id, secrets_to_hide))
            if keep_running:
                print(f"Running at {base_url} (Ctrl-C stops everything).")
                processes.wait_forever()
            step("Walk-through passed")
            passed = True
        finally:
            processes.stop_all()
            if db_name:
                drop_database(db_name)
            if passed and not keep_logs:
                shutil.rmtree(workdir, ignore_errors=True)
            else:
                print(f"Logs of every process are in {workdir}", file=sys.stderr)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep-running", action="store_true")
    parser.add_argument("--keep-logs", action="store_true", help="keep every process's log")
    parser.add_argument("--check-workers", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.check_workers:
        print(json.dumps(check_workers(args.check_workers)))
        return
    try:
        walkthrough(args.keep_running, args.keep_logs)
    except (AssertionError, RuntimeError) as error:
        print(f"Walk-through FAILED: {error}", file=sys.stderr)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
