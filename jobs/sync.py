"""The sync job, on the 'sync' queue. It takes a run id; the run row says what to do."""
import contextlib

from jobs.context import with_app_context


@with_app_context
def run_sync_job(run_id, as_of=None):
    """as_of: set when a tick run `--as-of` queued the sync; it then runs from that moment."""
    from datetime import datetime
    from webapp.clock import running_from
    from webapp.user_sync.engine.run import run_sync
    with running_from(datetime.fromisoformat(as_of)) if as_of else contextlib.nullcontext():
        run = run_sync(run_id)
    return run.status if run is not None else None
