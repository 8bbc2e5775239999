"""The sync jobs. Each takes a run id; the run row says what to do.

run_sync_job on the 'sync' queue; Sync this person now and Undo this sync on the 'quick' queue
(a few Graph requests, or database writes only)."""
import contextlib

from jobs.context import with_app_context


def _status(run):
    return run.status if run is not None else None


@with_app_context
def run_sync_job(run_id, as_of=None):
    """as_of: set when a tick run `--as-of` queued the sync; it then runs from that moment."""
    from datetime import datetime
    from webapp.clock import running_from
    from webapp.user_sync.engine.run import run_sync
    with running_from(datetime.fromisoformat(as_of)) if as_of else contextlib.nullcontext():
        return _status(run_sync(run_id))


@with_app_context
def run_person_sync_job(run_id):
    from webapp.user_sync.engine.one_person import run_person_sync
    return _status(run_person_sync(run_id))


@with_app_context
def run_undo_job(run_id):
    from webapp.user_sync.engine.undo import run_undo
    return _status(run_undo(run_id))
