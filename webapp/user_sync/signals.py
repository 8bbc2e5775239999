"""`run_finished`: sent once a sync run has reached its outcome and that outcome is committed.

The schedule (retry back-off) and the notifications (emails) listen; the run lifecycle does
not import them. A listener's error is logged and never reaches the sync.
"""
import logging

from blinker import Namespace

log = logging.getLogger(__name__)
run_finished = Namespace().signal("run-finished")


def announce_finished(run_id):
    for receiver in run_finished.receivers_for(run_id):
        try:
            receiver(run_id)
        except Exception:
            log.exception("run %s: a run-finished listener failed (the sync is unaffected)", run_id)
