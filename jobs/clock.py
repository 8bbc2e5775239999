"""The `clock` process: `python -m jobs.clock` runs RQ's CronScheduler (what `rq cron` runs)
with jobs/cron_config.py, on the app's own Redis connection (TLS settings included).

Run exactly one (Procfile `clock`, app.json formation quantity 1). Two do no harm: each
enqueues a tick, and the tick's conditional claim lets only one of them queue each school.
"""
import logging
import os

from rq.cron import CronScheduler

from jobs import context
from webapp.config import ConfigError
from webapp.logs import configure_logging
from webapp.redis_conn import check_redis, get_redis


def main():
    level = os.environ.get("LOG_LEVEL", "INFO").upper()
    configure_logging(level)
    app = context.get_app()
    with app.app_context():
        try:
            check_redis(app)
        except ConfigError as error:
            raise SystemExit(f"rostersync clock cannot start: {error}") from None
        scheduler = CronScheduler(connection=get_redis(), logging_level=level)
        scheduler.load_config_from_file("jobs.cron_config")
        logging.getLogger(__name__).info("clock started: a tick every %s s",
                                         app.config["CLOCK_INTERVAL_SECONDS"])
        scheduler.start()


if __name__ == "__main__":
    main()
