"""What user sync remembers: settings, runs, the people it manages and each run's changes."""
from webapp.clock import utcnow
from webapp.extensions import db

# Run states. QUEUED and RUNNING hold the organisation's one sync slot (see engine.lifecycle.start_run).
QUEUED, RUNNING = "queued", "running"
NEEDS_REVIEW, COMPLETE, FAILED, CANCELLED = "needs_review", "complete", "failed", "cancelled"
ACTIVE_STATES = (QUEUED, RUNNING)
KIND_SYNC, KIND_PREVIEW = "sync", "preview"
# Sync this person now (engine.one_person) and Undo this sync (engine.undo): runs of their own,
# holding the same one-sync slot, with their own change log.
KIND_PERSON, KIND_UNDO = "person", "undo"
# Kinds that write to the people tables (a preview never does).
CHANGING_KINDS = (KIND_SYNC, KIND_PERSON, KIND_UNDO)
# Who started a run: an admin (Sync now / Preview) or the schedule (webapp.schedule.tick).
TRIGGER_MANUAL, TRIGGER_AUTOMATIC = "manual", "automatic"

# Change actions recorded per run.
ADD, UPDATE, SUSPEND, REINSTATE, SKIP, KEEP = "add", "update", "suspend", "reinstate", "skip", "keep"

# Why a person was skipped (or kept); the words shown to admins live in webapp.user_sync.reasons.
GUEST, DISABLED, NO_EMAIL, DUPLICATE_EMAIL, EXCLUDED, EMAIL_TAKEN = (
    "guest", "disabled", "no_email", "duplicate_email", "excluded", "email_taken")
LEFT_GROUP, PROTECTED_ADMIN, PROTECTED_CONNECTOR = "left_group", "protected_admin", "protected_connector"
EXCLUDED_GROUP = "excluded_group"  # a member of a group whose members are never synced
INVITED = "invited"  # no userType from Microsoft and an #EXT# sign-in name: counted as a guest
LIMITED_INFO = "limited_info"  # Microsoft gave only the member's type and id
UNDONE = "undone"  # added by a sync that an admin undid: suspended, not deleted
ERASED = "erased"  # erased by the leaver retention rule since: an undo cannot bring them back
INCLUDED_SINCE = "included_since"  # excluded when the undone sync ran, included again since
REMOVED_SINCE = "removed_since"  # removed from the school by an admin since the undone sync
REMOVED_BY_ADMIN = "removed_by_admin"  # their membership removed on Manage users
# Why an add linked to a membership the account already had (active, or suspended and made
# active): its earlier state, which an undo puts back (an add without one created it).
LINKED_MEMBER, LINKED_SUSPENDED = "linked_member", "linked_suspended"
MEMBER_BEFORE = "member_before"  # an undo left them: a member of the school before that sync
EMAIL_KEPT = "email_kept"  # an undo left their email: the earlier one is another account's now


NAME_LIMIT = 256  # Microsoft's own limit on a user's displayName


def sort_name(display_name, email):
    """What the people table sorts and searches names by (SyncedPerson.sort_name)."""
    return (display_name or email or "").lower()[:NAME_LIMIT]


class SyncSettings(db.Model):
    __tablename__ = "sync_settings"

    id = db.Column(db.Integer, primary_key=True)
    organisation_id = db.Column(db.Integer, db.ForeignKey("organisations.id", ondelete="CASCADE"),
                                nullable=False, unique=True)
    include_guests = db.Column(db.Boolean, nullable=False, default=False)
    removal_threshold_percent = db.Column(db.Integer, nullable=False, default=10)
    removal_threshold_minimum = db.Column(db.Integer, nullable=False, default=5)


class SyncRun(db.Model):
    __tablename__ = "sync_runs"
    __table_args__ = (
        db.Index("ix_sync_runs_org_created", "organisation_id", "created_at"),
        # A school's newest run of a kind in a status (engine.fleet's rules), and whether one
        # completed since a moment (the 48-hour rule, asked for hundreds of schools): read from
        # the index alone.
        db.Index("ix_sync_runs_org_status_kind_id", "organisation_id", "status", "kind", "id"),
        db.Index("ix_sync_runs_org_status_kind_finished", "organisation_id", "status", "kind",
                 "finished_at"),
    )

    id = db.Column(db.Integer, primary_key=True)
    organisation_id = db.Column(db.Integer, db.ForeignKey("organisations.id", ondelete="CASCADE"),
                                nullable=False)
    # Equal to organisation_id while queued or running, else NULL: the unique constraint makes
    # "one sync per organisation" hold across every web and worker process.
    active_slot = db.Column(db.Integer, unique=True)
    kind = db.Column(db.String(16), nullable=False, default=KIND_SYNC)
    trigger = db.Column(db.String(16), nullable=False, default=TRIGGER_MANUAL,
                        server_default=TRIGGER_MANUAL)
    # Set when an admin answers Apply removals: the job then applies this run's stored plan.
    approved = db.Column(db.Boolean, nullable=False, default=False)
    reviewed_by_user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"))
    started_by_user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"))
    group_id = db.Column(db.String(64))  # the first synced group; the selection has them all
    group_name = db.Column(db.String(512))  # the synced groups' names, for lists of runs
    # The groups this run fetched, as JSON (microsoft.selection.Selection): a preview may try one
    # that is not saved, and a later change of the saved selection never alters a running sync.
    selection = db.Column(db.Text)
    status = db.Column(db.String(16), nullable=False, default=QUEUED)
    phase = db.Column(db.String(64), nullable=False, default="Waiting for a worker")
    fetched = db.Column(db.Integer, nullable=False, default=0)
    total = db.Column(db.Integer)
    reason = db.Column(db.Text)
    rq_job_id = db.Column(db.String(64))
    worker_pid = db.Column(db.Integer)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    started_at = db.Column(db.DateTime(timezone=True))
    # The last page arrived; and the apply transaction began: the run detail splits "Took" by them.
    fetched_at = db.Column(db.DateTime(timezone=True))
    applying_at = db.Column(db.DateTime(timezone=True))
    finished_at = db.Column(db.DateTime(timezone=True))
    added = db.Column(db.Integer, nullable=False, default=0)
    updated = db.Column(db.Integer, nullable=False, default=0)
    suspended = db.Column(db.Integer, nullable=False, default=0)
    reinstated = db.Column(db.Integer, nullable=False, default=0)
    skipped = db.Column(db.Integer, nullable=False, default=0)
    unchanged = db.Column(db.Integer, nullable=False, default=0)
    # Sync this person now: the email, sign-in name (UPN) or Microsoft id it was asked for.
    subject = db.Column(db.String(320))
    # Undo this sync: the run this one undid.
    undoes_run_id = db.Column(db.Integer, db.ForeignKey("sync_runs.id", ondelete="SET NULL"))

    started_by = db.relationship("User", foreign_keys=[started_by_user_id])
    reviewed_by = db.relationship("User", foreign_keys=[reviewed_by_user_id])
    undone_run = db.relationship("SyncRun", remote_side=[id], foreign_keys=[undoes_run_id])

    @property
    def is_automatic(self):
        return self.trigger == TRIGGER_AUTOMATIC

    @property
    def is_active(self):
        return self.status in ACTIVE_STATES

    @property
    def duration_seconds(self):
        return _seconds_between(self.started_at, self.finished_at)

    @property
    def fetch_seconds(self):
        return _seconds_between(self.started_at, self.fetched_at)

    @property
    def apply_seconds(self):
        """The people writes, history and outcome: one transaction, after the complete fetch."""
        return _seconds_between(self.applying_at, self.finished_at)


class SchoolRunFacts(db.Model):
    """What a school's runs say (engine.fleet's rules), kept per school so that the Schools page
    reads one row a school instead of asking sync_runs four questions for each of hundreds.
    Written only by engine.run_facts, in the transaction that changes a run's status; a school
    without a row is answered from sync_runs directly (engine.fleet.with_run_facts)."""
    __tablename__ = "school_run_facts"

    organisation_id = db.Column(db.Integer, db.ForeignKey("organisations.id", ondelete="CASCADE"),
                                primary_key=True, autoincrement=False)
    complete_id = db.Column(db.Integer)
    complete_finished_at = db.Column(db.DateTime(timezone=True))
    review_id = db.Column(db.Integer)
    failing_since = db.Column(db.DateTime(timezone=True))
    last_success_at = db.Column(db.DateTime(timezone=True))  # the 48-hour rule's


def _seconds_between(start, end):
    if start is None or end is None:
        return None
    return (end - start).total_seconds()


class SyncedPerson(db.Model):
    """A Microsoft user this organisation's sync manages, keyed by Microsoft object id.

    Name, email, title and department are copied here so the people table is one indexed
    table, not a join, at 50,000 people.
    """
    __tablename__ = "synced_people"
    __table_args__ = (
        db.UniqueConstraint("organisation_id", "microsoft_id", name="uq_synced_people_org_msid"),
        db.Index("ix_synced_people_org_status_name", "organisation_id", "status", "sort_name", "id"),
        db.Index("ix_synced_people_org_name", "organisation_id", "sort_name", "id"),
        db.Index("ix_synced_people_org_email", "organisation_id", "email_normalised"),
        db.Index("ix_synced_people_microsoft_id", "microsoft_id"),  # Sign in with Microsoft
    )

    id = db.Column(db.Integer, primary_key=True)
    organisation_id = db.Column(db.Integer, db.ForeignKey("organisations.id", ondelete="CASCADE"),
                                nullable=False)
    microsoft_id = db.Column(db.String(64), nullable=False)
    # The Microsoft tenant the id belongs to: with it, Sign in with Microsoft knows the person.
    tenant_id = db.Column(db.String(64))
    membership_id = db.Column(db.Integer, db.ForeignKey("memberships.id", ondelete="SET NULL"),
                              index=True)
    email = db.Column(db.String(320), nullable=False, default="")
    email_normalised = db.Column(db.String(320), nullable=False, default="")
    display_name = db.Column(db.String(NAME_LIMIT), nullable=False, default="")
    sort_name = db.Column(db.String(NAME_LIMIT), nullable=False, default="")
    job_title = db.Column(db.String(255))
    department = db.Column(db.String(255))
    status = db.Column(db.String(16), nullable=False, default="active")  # active|suspended|excluded
    excluded = db.Column(db.Boolean, nullable=False, default=False)
    in_group = db.Column(db.Boolean, nullable=False, default=True)
    last_seen_at = db.Column(db.DateTime(timezone=True))
    # The chosen groups the person came through in the last sync that saw them (names, ", ").
    synced_via = db.Column(db.Text)
    suspended_reason = db.Column(db.String(32))
    # With suspended_reason "excluded_group": the name of the excluded group that keeps them
    # out, as the sync that decided it saw it (diff.decide's scope), so no page guesses later.
    suspended_group = db.Column(db.String(512))
    suspended_at = db.Column(db.DateTime(timezone=True))  # leaver retention counts from here
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)

    @property
    def name_or_email(self):
        return self.display_name or self.email


class SyncChange(db.Model):
    """One change (or skip) a run made or would make; a review run's changes are its plan."""
    __tablename__ = "sync_changes"
    __table_args__ = (db.Index("ix_sync_changes_run_action", "run_id", "action", "id"),)

    id = db.Column(db.Integer, primary_key=True)
    run_id = db.Column(db.Integer, db.ForeignKey("sync_runs.id", ondelete="CASCADE"),
                       nullable=False)
    action = db.Column(db.String(16), nullable=False)
    reason = db.Column(db.String(32))
    synced_person_id = db.Column(db.Integer)
    microsoft_id = db.Column(db.String(64), nullable=False)
    email = db.Column(db.String(320))
    display_name = db.Column(db.String(NAME_LIMIT))
    job_title = db.Column(db.String(255))
    department = db.Column(db.String(255))
    detail = db.Column(db.Text)


class PriorValues(db.Model):
    """A synced person as they were just before a run changed them: the "before" half of the
    run's change log (sync_changes holds the "after"). Written in the run's apply transaction;
    Undo this sync restores people from it. One row per person the run changed."""
    __tablename__ = "sync_prior_values"
    __table_args__ = (db.Index("ix_sync_prior_values_run_person", "run_id", "synced_person_id"),)

    id = db.Column(db.Integer, primary_key=True)
    run_id = db.Column(db.Integer, db.ForeignKey("sync_runs.id", ondelete="CASCADE"),
                       nullable=False)
    synced_person_id = db.Column(db.Integer, nullable=False)
    microsoft_id = db.Column(db.String(64), nullable=False)
    membership_id = db.Column(db.Integer)
    email = db.Column(db.String(320), nullable=False)
    email_normalised = db.Column(db.String(320), nullable=False)
    display_name = db.Column(db.String(255), nullable=False)
    job_title = db.Column(db.String(255))
    department = db.Column(db.String(255))
    status = db.Column(db.String(16), nullable=False)
    in_group = db.Column(db.Boolean, nullable=False)
    last_seen_at = db.Column(db.DateTime(timezone=True))
    synced_via = db.Column(db.Text)
    suspended_reason = db.Column(db.String(32))
    suspended_group = db.Column(db.String(512))  # with suspended_reason "excluded_group"
    suspended_at = db.Column(db.DateTime(timezone=True))
    membership_status = db.Column(db.String(16))
    # The platform account as it was (a sync copies name, email, title and department to it).
    user_id = db.Column(db.Integer)
    user_email = db.Column(db.String(320))
    user_email_normalised = db.Column(db.String(320))
    user_display_name = db.Column(db.String(255))
    user_job_title = db.Column(db.String(255))
    user_department = db.Column(db.String(255))
