"""The real processes of the fleet benchmark: RQ workers, and the tick run from the CLI."""
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAST_MINUTE = 31  # 02:31: every school's spread slot (02:00 + up to 30 minutes) has passed


@contextmanager
def running_workers(app, count, log_dir):
    """`count` real `python -m jobs.worker` processes (not burst), registered before yielding."""
    from rq import Worker
    from harness.app_config import worker_environment
    from webapp.redis_conn import get_queue, get_redis
    processes = []
    try:
        for n in range(count):
            log = open(Path(log_dir) / f"worker-{n}.log", "wb")
            processes.append(subprocess.Popen([sys.executable, "-m", "jobs.worker"], cwd=ROOT,
                                              env=worker_environment(app), stdout=log,
                                              stderr=subprocess.STDOUT))
            log.close()
        deadline = time.monotonic() + 120
        while Worker.count(connection=get_redis(app), queue=get_queue("sync", app)) < count:
            if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
                raise RuntimeError(f"the workers did not start; see {log_dir}")
            time.sleep(0.2)
        yield processes
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def run_tick(app, as_of):
    """One real `flask --app wsgi sync enqueue-due --as-of`; (queued, requeued, seconds)."""
    from harness.app_config import worker_environment
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "sync", "enqueue-due",
                           "--as-of", as_of.isoformat()], cwd=ROOT, env=worker_environment(app),
                          capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"tick as of {as_of} failed:\n{done.stdout}\n{done.stderr}")
    return (done.stdout.count("queued an automatic sync"), done.stdout.count(" again (its job"),
            time.perf_counter() - started)


def tick_every_minute(app, two_am, minute_seconds):
    """Ticks as of 02:00, 02:01, ... 02:31, the k-th at k x minute_seconds of real time."""
    ticks, began = [], time.monotonic()
    for minute in range(LAST_MINUTE + 1):
        delay = began + minute * minute_seconds - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        ticks.append(run_tick(app, two_am + timedelta(minutes=minute)))
    return ticks
