"""An organisation's automatic sync schedule: what the admin chose and when it is next due."""
from webapp.clock import utcnow
from webapp.extensions import db

# The choices of "Sync automatically", in the words the card and the Activity log show.
FREQUENCY_LABELS = {"off": "Off", "daily": "Every day", "1h": "Every hour",
                    "2h": "Every 2 hours", "4h": "Every 4 hours", "6h": "Every 6 hours",
                    "12h": "Every 12 hours"}

OFF = "off"


class SyncSchedule(db.Model):
    __tablename__ = "sync_schedules"

    id = db.Column(db.Integer, primary_key=True)
    organisation_id = db.Column(db.Integer, db.ForeignKey("organisations.id", ondelete="CASCADE"),
                                nullable=False, unique=True)
    # A code of webapp.schedule.due.FREQUENCIES: "off", "daily", "1h", "2h", "4h", "6h", "12h".
    frequency = db.Column(db.String(8), nullable=False, default=OFF)
    # Every day's time, minutes after local midnight in the organisation's time zone; kept while
    # another frequency is chosen, so going back to Every day finds it.
    minute_of_day = db.Column(db.Integer)
    # The one moment the tick looks at; a tick claims a school by moving it forward with a
    # conditional UPDATE, so two ticks can never both queue the same slot.
    next_due_at = db.Column(db.DateTime(timezone=True), index=True)
    # Automatic syncs that failed in a row (drives the retry back-off and the recovery mail).
    failures = db.Column(db.Integer, nullable=False, default=0)
    enabled_at = db.Column(db.DateTime(timezone=True))
    # The one-time "turn automatic sync on" suggestion was answered (Not now, or a schedule
    # saved): it is not shown again. Shown until then, because a GET never writes.
    suggestion_answered_at = db.Column(db.DateTime(timezone=True))
    updated_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow,
                           onupdate=utcnow)
    # Set by Undo this sync (otherwise the next tick would redo what was undone); cleared when
    # an admin saves the schedule or presses Sync now.
    paused_by_run_id = db.Column(db.Integer, db.ForeignKey("sync_runs.id", ondelete="SET NULL"))
    paused_at = db.Column(db.DateTime(timezone=True))

    @property
    def is_on(self):
        return self.frequency != OFF

    @property
    def paused_by_undo(self):
        return self.paused_at is not None
