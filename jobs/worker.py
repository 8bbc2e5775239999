"""The `worker` process: `python -m jobs.worker` listens to the quick queue first, then syncs.

Quick work (group snapshots, troubleshooting checks) is always taken before the next sync, so
a long sync on one worker never delays the picker when another worker is free. Run more worker
processes to run more syncs at once; each runs one job at a time.
"""
import argparse
import logging
import os
import sys
import time

from flask import current_app
from rq import Worker

from jobs import context
from webapp.config import ConfigError
from webapp.extensions import db
from webapp.logs import job_id_var
from webapp.microsoft.client_secret import log_client_secret_notice
from webapp.redis_conn import get_queue, get_redis

job_log = logging.getLogger("rostersync.job")


class PromptStop:
    """RQ listens for commands (stop, kill-horse) on a pub/sub thread that polls every 60
    seconds, and since redis-py 8.2 stopping that thread waits for the poll to end: a worker
    then took up to a minute to stop after SIGTERM or a burst, longer than the 30 seconds a
    platform allows before it kills the process. Polling every second bounds the wait; an idle
    poll sends nothing to Redis."""

    COMMAND_POLL_SECONDS = 1

    def subscribe(self):
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(
            sleep_time=self.COMMAND_POLL_SECONDS, daemon=True,
            exception_handler=self._pubsub_exception_handler)


class LoggingWorker(PromptStop, Worker):
    """Writes one structured `job` line per job and tags every line the job logs with its id."""

    def perform_job(self, job, queue):
        token = job_id_var.set(job.id)
        started = time.perf_counter()
        succeeded = False
        try:
            succeeded = super().perform_job(job, queue)
            return succeeded
        finally:
            job_log.info("job", extra={
                "queue": queue.name, "func": job.func_name,
                "status": "finished" if succeeded else "failed",
                "duration_ms": round((time.perf_counter() - started) * 1000, 1)})
            job_id_var.reset(token)


def parse_arguments(argv):
    parser = argparse.ArgumentParser(prog="python -m jobs.worker",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--burst", action="store_true", help="stop when the queues are empty")
    parser.add_argument("--queues", default="quick,sync",
                        help="queue kinds in priority order (default quick,sync)")
    args = parser.parse_args(argv)
    args.queues = [kind.strip() for kind in args.queues.split(",") if kind.strip()]
    return args


def main(argv=None):
    args = parse_arguments(sys.argv[1:] if argv is None else argv)
    with context.process_app("worker") as level:
        try:
            queues = [get_queue(kind) for kind in args.queues]
        except ConfigError as error:
            raise SystemExit(f"rostersync worker cannot start: {error}") from None
        log_client_secret_notice(current_app.config)
        engine = db.engine
        # RQ forks a work horse per job; a forked child must not reuse the parent's sockets.
        os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))
        worker = LoggingWorker(queues, connection=get_redis())
        worker.work(burst=args.burst, logging_level=level)


if __name__ == "__main__":
    main()
