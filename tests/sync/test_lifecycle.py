"""A run's state changes only through the lifecycle's guarded updates, whoever races whom."""
import os

import pytest

from tests.sync_helpers import count
from webapp.extensions import db
from webapp.user_sync import models as m
from webapp.user_sync.engine import lifecycle
from webapp.user_sync.engine.diff import Person, Plan
from webapp.user_sync.engine.record import record_changes

pytestmark = pytest.mark.both_databases  # the one-sync slot is a unique constraint in each database


def running_run(school):
    run, started = lifecycle.start_run(school.org, school.admin, m.KIND_PREVIEW)
    assert started and lifecycle.mark_running(run.id, os.getpid())
    return run


def test_a_run_is_taken_by_one_worker_only(school):
    run = running_run(school)
    assert not lifecycle.mark_running(run.id, os.getpid())


def test_what_a_run_wrote_is_dropped_when_a_sweep_ended_it_meanwhile(school):
    run = running_run(school)
    assert lifecycle.finish_run(run.id, m.FAILED, reason="The worker stopped responding.")
    plan = Plan(skips=[(Person("x", "x@t.example", "x@t.example", "X", None, None), m.GUEST,
                        None)])
    record_changes(run.id, plan)  # the engine, unaware, finishes its preview
    assert not lifecycle.finish_run(run.id, m.COMPLETE, counts=plan.counts())
    db.session.expire_all()
    ended = db.session.get(m.SyncRun, run.id)
    assert (ended.status, ended.reason, ended.active_slot) == (
        m.FAILED, "The worker stopped responding.", None)
    assert count(m.SyncChange, m.SyncChange.run_id == run.id) == 0
