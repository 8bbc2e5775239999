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
