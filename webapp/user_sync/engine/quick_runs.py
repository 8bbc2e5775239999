"""Starting a run whose job is quick (Sync this person now, Undo this sync): it takes the
school's one-sync slot like any sync, or is refused saying which run holds it."""
from sqlalchemy.exc import IntegrityError

from webapp.errors import ServiceError
from webapp.extensions import db
from webapp.redis_conn import enqueue
from webapp.user_sync import models as m
from webapp.user_sync.engine import lifecycle
from webapp.user_sync.engine.queries import active_run

RUNNING_KINDS = {m.KIND_SYNC: "A sync", m.KIND_PREVIEW: "A preview of changes",
                 m.KIND_PERSON: "Another Sync this person now", m.KIND_UNDO: "An undo of a sync"}


def slot_taken(run):
    """The refusal while another run holds the school's one-sync slot."""
    what = RUNNING_KINDS.get(getattr(run, "kind", None), "A sync")
    return (f"{what} is running for this school, and only one can run at a time. Nothing was "
            "changed: try again when it has finished (it shows under Sync on Manage user sync).")


def refuse_while_busy(organisation_id):
    """ServiceError if a run holds the slot (after failing any whose worker is gone)."""
    lifecycle.sweep_stale_runs(organisation_id)
    running = active_run(organisation_id)
    if running is not None:
        raise ServiceError(slot_taken(running))


def start_quick_run(run, job, what):
    """Commits the new run (holding its school's slot), then queues its job on the quick queue.
    ServiceError if another run took the slot since refuse_while_busy; a job queue out of reach
    fails the run, saying so, with nothing changed."""
    db.session.add(run)
    try:
        db.session.commit()
    except IntegrityError:  # another tab or admin took the slot between the check and here
        db.session.rollback()
        raise ServiceError(slot_taken(active_run(run.organisation_id))) from None
    try:
        enqueue("quick", job, run.id, job_id=run.rq_job_id,
                description=f"{what}, run {run.id} of organisation {run.organisation_id}")
    except Exception as error:  # Redis unreachable: say so rather than leave a run queued
        lifecycle.finish_run(run.id, m.FAILED, reason=(
            f"{what.capitalize()} could not be queued ({type(error).__name__}: the job queue is "
            f"unreachable). Try again in a minute. {lifecycle.NOTHING_CHANGED}"))
        db.session.refresh(run)
    return run
