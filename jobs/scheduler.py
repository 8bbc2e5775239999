"""The `clock` process: `python -m jobs.scheduler` runs RQ's CronScheduler (what `rq cron` runs)
with jobs/cron_config.py, on the app's own Redis connection (TLS settings included).

Run exactly one (Procfile `clock`, app.json formation quantity 1). Two do no harm: each
enqueues a tick, and the tick's conditional claim lets only one of them queue each school.
"""
import logging

from flask import current_app
from rq.cron import CronScheduler

from jobs import context
from webapp.redis_conn import get_redis


def main():
    with context.process_app("clock") as level:
        scheduler = CronScheduler(connection=get_redis(), logging_level=level)
        scheduler.load_config_from_file("jobs.cron_config")
        logging.getLogger(__name__).info("clock started: a tick every %s s",
                                         current_app.config["CLOCK_INTERVAL_SECONDS"])
        scheduler.start()


if __name__ == "__main__":
    main()
