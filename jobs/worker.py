"""The `worker` process: `python -m jobs.worker` listens to the quick queue first, then syncs."""
import logging
import os
import sys

from rq import Worker

from jobs import context
from webapp.extensions import db
from webapp.redis_conn import get_queue, get_redis


def main(argv=None):
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"), stream=sys.stdout,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    app = context.get_app()
    with app.app_context():
        engine = db.engine
        # RQ forks a work horse per job; a forked child must not reuse the parent's sockets.
        os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))
        queues = [get_queue("quick"), get_queue("sync")]
        worker = Worker(queues, connection=get_redis())
        burst = "--burst" in (argv or sys.argv[1:])
        worker.work(burst=burst, logging_level=os.environ.get("LOG_LEVEL", "INFO"))


if __name__ == "__main__":
    main()
