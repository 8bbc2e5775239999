"""The sync job, on the 'sync' queue. It takes a run id; the run row says what to do."""
from jobs.context import with_app_context


@with_app_context
def run_sync_job(run_id):
    from webapp.user_sync.engine.run import run_sync
    run = run_sync(run_id)
    return run.status if run is not None else None
