"""The README's first command, `make run` (scripts/run_local.py), on a copy of the project: an
embedded Redis, the Microsoft simulator, migrations, the demo trust (connected to the simulator,
one school synced: Settings › Schools shows one fine and one needing attention), gunicorn, a
worker and the clock, all up together and all stopped together, even with a second Ctrl-C
while it stops or a job still running. A worker that crashed at start-up once stopped it all,
and a wrong password once gave a 500 there (a Redis 7 command on the embedded Redis 6.2). The
invitation of a person added on Manage users is followed from make run's own output."""
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests

from harness.processes import free_port
from tests.faults.helpers import wait_for

ROOT = Path(__file__).resolve().parents[2]
# Settings a developer or this test session may have set; `make run` must not need any of them.
CLEARED = ("REDIS_URL", "DATABASE_URL", "SECRET_KEY", "TOKEN_ENCRYPTION_KEY", "MICROSOFT_CLIENT_ID",
           "MICROSOFT_CLIENT_SECRET", "MICROSOFT_AUTHORITY", "MICROSOFT_GRAPH_URL",
           "REQUESTS_CA_BUNDLE", "ROSTERSYNC_ENV", "LOGIN_FAILURE_WINDOW_SECONDS")
DEMO_EMAIL, DEMO_PASSWORD = "it-sync@oaklearning.example", "demo-password"
FAILURES_ALLOWED = 3


def project_copy(tmp_path):
    copy = tmp_path / "rostersync"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(
        ".git", ".venv", "instance", "__pycache__", ".pytest_cache", "docs"))
    return copy


def collect(stream, lines):
    for line in stream:
        lines.append(line)


def healthy(base_url):
    try:
        answer = requests.get(f"{base_url}/healthz", timeout=2)
    except requests.RequestException:
        return False
    return answer.status_code == 200


def sign_in(session, base_url, password):
    page = session.get(f"{base_url}/login", timeout=10)
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    return session.post(f"{base_url}/login", timeout=10, allow_redirects=False, data={
        "email": DEMO_EMAIL, "password": password, "csrf_token": token})


def assert_schools_page_shows_one_fine_and_one_needing_attention(session, base_url):
    home = session.get(f"{base_url}/", timeout=10).url  # /o/<id>/
    page = session.get(f"{home}settings/schools/?status=all", timeout=10)
    assert page.status_code == 200, page.text
    text = " ".join(re.sub(r"<[^>]+>", " ", page.text).split())
    assert "Needs attention (1)" in text and "All schools (2)" in text, text
    assert "1 never synced · 1 OK" in text, text
    north = re.search(r"Northfield Academy Trust’s connection.*?(?=Select |$)", text).group(0)
    assert "27 added" in north and "OK" in north, north


def follow_an_invitation_from_the_output(admin, base_url, output):
    """What the welcome lines say to do: add a person, open the link printed in the output."""
    users = admin.get(f"{base_url}/", timeout=10).url.rstrip("/") + "/settings/users/"
    page = admin.get(users, timeout=10).text
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    added = admin.post(users, timeout=10, data={"email": "newcomer@oaklearning.example",
                                                "display_name": "New Comer", "role": "member",
                                                "csrf_token": token})
    assert "written to the log" in added.text, added.text
    marker = "Open this link to follow it: "
    wait_for(lambda: marker in output(), timeout=60, what="the invitation link in the output")
    link = output().split(marker, 1)[1].split('"', 1)[0].split()[0]
    invitation = requests.get(link, timeout=10)
    assert invitation.status_code == 200 and "Set your password" in invitation.text


def flask_commands_in_a_second_terminal_need_nothing_copied(copy, env):
    """`flask --app wsgi ...` typed beside `make run`, with none of its settings in the shell:
    make run kept them in a file (this user's only) that the command line adopts."""
    settings = copy / "instance" / "make-run-settings.json"
    assert settings.exists() and settings.stat().st_mode & 0o077 == 0
    kept = json.loads(settings.read_text())["environment"]
    assert kept["REDIS_URL"].startswith("unix://") and "MICROSOFT_AUTHORITY" in kept
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    check = subprocess.run(flask + ["microsoft", "check"], cwd=copy, env=env, text=True,
                           capture_output=True, timeout=120)
    # It reached the simulator (its address and its CA came from the file), not Microsoft.
    assert (f"PASS  Discovery document\n      {kept['MICROSOFT_AUTHORITY']}/v2.0/.well-known/"
            "openid-configuration") in check.stdout, check.stdout + check.stderr
    tick = subprocess.run(flask + ["sync", "enqueue-due"], cwd=copy, env=env, text=True,
                          capture_output=True, timeout=120)
    assert tick.returncode == 0 and "Tick as of" in tick.stdout, tick.stdout + tick.stderr


def assert_the_certificate_warning_is_explained_before_connect(session, base_url, output):
    page = session.get(session.get(f"{base_url}/", timeout=10).url
                       + "settings/user-sync/import/microsoft", timeout=10).text
    text = " ".join(re.sub(r"<[^>]+>", " ", page).split())
    assert ("it may say Your connection is not private . That is expected here only: choose "
            "Advanced , then Proceed to localhost (unsafe) .") in text, text
    assert ('the first time your browser will say "Your connection is not private": choose '
            'Advanced, then "Proceed to localhost (unsafe)"') in output


def refuse_the_simulators_certificate(port, times):
    """What a browser does until the admin chooses Proceed: it refuses the simulator's
    self-signed certificate, and the simulator logs each refusal."""
    context = ssl.create_default_context()  # the machine's CAs only, not the simulator's
    for _ in range(times):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
            try:
                context.wrap_socket(connection, server_hostname="localhost").close()
            except ssl.SSLCertVerificationError:
                continue
        raise AssertionError("the simulator's certificate was trusted without its CA")


def the_simulator_is_heard_after_it_started(port, output):
    """make run once read the simulator's output only until it was ready: past a pipe's 64 KiB
    of later lines (each refused certificate is one), every thread of it that logged waited for
    ever. Its lines now reach make run's output as the other processes' do."""
    refusals = 500  # about 85 KB of log lines
    refuse_the_simulators_certificate(port, refusals)
    wait_for(lambda: output().count("SSL error occurred") >= refusals, timeout=30,
             what="the simulator's log lines in make run's output")


def stop_impatiently(process, output):
    """Ctrl-C, then Ctrl-C again while it stops (as an impatient person, or a supervisor that
    repeats its SIGTERM, does): the second once cut the stop short with a traceback, leaving
    the settings file behind and the processes unwaited for."""
    process.send_signal(signal.SIGTERM)  # what Ctrl-C does
    # gunicorn says so once make run has passed the SIGTERM on: it is stopping, and waiting.
    wait_for(lambda: "Handling signal: term" in output() or process.poll() is not None,
             timeout=30, interval=0.02, what="make run to start stopping")
    if process.poll() is None:
        process.send_signal(signal.SIGINT)


def test_make_run_starts_everything_signs_in_and_stops_it_all(tmp_path):
    env = {name: value for name, value in os.environ.items() if name not in CLEARED}
    port = free_port()
    env.update(PORT=str(port), SIMULATOR_PORT=str(free_port()), PYTHONUNBUFFERED="1",
               LOGIN_FAILURES_PER_ACCOUNT=str(FAILURES_ALLOWED))
    copy = project_copy(tmp_path)
    process = subprocess.Popen([sys.executable, "-m", "scripts.run_local"],
                               cwd=copy, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)
    lines = []
    threading.Thread(target=collect, args=(process.stdout, lines), daemon=True).start()
    base_url = f"http://127.0.0.1:{port}"
    output = lambda: "".join(lines)  # noqa: E731
    try:
        wait_for(lambda: healthy(base_url) or process.poll() is not None, timeout=180,
                 what="make run's web process")
        wait_for(lambda: "Listening on" in output() or process.poll() is not None, timeout=60,
                 what="make run's worker")
        wait_for(lambda: "clock started" in output() or process.poll() is not None, timeout=60,
                 what="make run's clock")
        wait_for(lambda: "jobs.schedule.enqueue_due_job" in output() or process.poll() is not None,
                 timeout=60, what="the clock's first tick, run by the worker")
        wait_for(lambda: "Demo trust prepared" in output() or process.poll() is not None,
                 timeout=180, what="the demo trust connected to the simulator and synced")
        assert process.poll() is None, output()
        assert f"Sign in to rostersync as: {DEMO_EMAIL} / {DEMO_PASSWORD}" in output()
        sign_in_page = requests.get(f"{base_url}/login", timeout=10).text
        assert f"Sign in as <strong>{DEMO_EMAIL}</strong> with the password " \
            f"<strong>{DEMO_PASSWORD}</strong>" in sign_in_page  # demo mode says how
        mistyped = sign_in(requests.Session(), base_url, "demo-pasword")
        assert mistyped.status_code == 401, output()
        assert "That email and password don&#39;t match an active account." in mistyped.text
        session = requests.Session()
        signed_in = sign_in(session, base_url, DEMO_PASSWORD)
        assert signed_in.status_code == 302, output()
        assert_schools_page_shows_one_fine_and_one_needing_attention(session, base_url)
        follow_an_invitation_from_the_output(session, base_url, output)
        assert_the_certificate_warning_is_explained_before_connect(session, base_url, output())
        the_simulator_is_heard_after_it_started(int(env["SIMULATOR_PORT"]), output)
        flask_commands_in_a_second_terminal_need_nothing_copied(copy, env)
        assert requests.get(f"{base_url}/healthz", timeout=5).json()["checks"] == {
            "database": {"ok": True}, "redis": {"ok": True}}
        for _ in range(FAILURES_ALLOWED):
            assert sign_in(requests.Session(), base_url, "guess").status_code == 401, output()
        locked = sign_in(requests.Session(), base_url, DEMO_PASSWORD)
        assert locked.status_code == 429, output()
        assert "Too many failed sign-in attempts. Wait 15 minutes" in locked.text
        assert process.poll() is None, output()  # the worker is still up, so everything is
    finally:
        if process.poll() is None:
            stop_impatiently(process, output)
        try:
            process.wait(timeout=60)
        finally:
            try:
                os.killpg(process.pid, signal.SIGKILL)  # anything left behind
            except ProcessLookupError:
                pass
    assert "Stopped everything `make run` started." in output()
    # Removed: a later `flask` command does not look for a Redis that is gone.
    assert not (copy / "instance" / "make-run-settings.json").exists()
    assert process.returncode == 0, output()  # Ctrl-C is a clean stop; a crash exits 1


def children_of(pid):
    """The pids of the running processes whose parent is pid (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def running(pid):
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.backends("sqlite")
def test_stopping_during_a_long_job_ends_the_work_horse_too(app, start_worker):
    """make run's stop gave the worker one SIGTERM (RQ's warm shutdown: it waits for the job),
    then killed it after 10 s; the work horse running the job, in a process group of its own,
    went on running it, its parent gone. A second SIGTERM (RQ's cold shutdown) ends it."""
    import time
    from scripts.run_local import stop
    from webapp.redis_conn import get_queue
    worker = start_worker()
    job = get_queue("quick", app).enqueue(time.sleep, 120)
    wait_for(lambda: job.get_status(refresh=True) == "started", timeout=60,
             what="the job running in a work horse")
    horses = children_of(worker.pid)
    assert horses, "the worker runs its job in a work horse"
    try:
        started = time.monotonic()
        stop([worker], grace=1.5)
        assert worker.poll() is not None
        assert not [horse for horse in horses if running(horse)]
        assert time.monotonic() - started < 10  # not left to the SIGKILL
    finally:
        for horse in horses:
            if running(horse):
                os.kill(horse, signal.SIGKILL)
