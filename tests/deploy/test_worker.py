"""The Procfile's worker is a real RQ worker process that sets up the app itself."""

from jobs.diagnostics import count_people
from webapp.redis_conn import get_queue


def test_worker_process_runs_a_job_against_this_test_database(app, factory, start_worker):
    org = factory.organisation("Worker School")
    factory.user("a@school.example", [org])
    job = get_queue("quick").enqueue(count_people, org.id)
    start_worker(burst=True).wait(timeout=60)
    job.refresh()
    assert job.get_status() == "finished", job.latest_result()
    assert job.return_value() == 1



def test_a_workers_command_listener_stops_within_a_second_or_so(app):
    """Heroku-style platforms kill a process 30 seconds after SIGTERM. RQ stops its command
    listener after unsubscribing; when the listener has already read the unsubscribe reply, it
    waits for its next poll, which redis-py 8.2's stop() then joins: 60 seconds with RQ's
    default, so workers (and every burst worker in the tests) took up to a minute to stop."""
    import time

    from jobs.worker import LoggingWorker
    from webapp.redis_conn import get_redis
    worker = LoggingWorker([get_queue("quick")], connection=get_redis())
    worker.subscribe()
    worker.pubsub.unsubscribe()
    time.sleep(0.3)  # the listener reads the reply and polls again
    started = time.monotonic()
    worker.pubsub_thread.stop()
    worker.pubsub_thread.join(timeout=90)
    worker.pubsub.close()
    assert time.monotonic() - started < 5
