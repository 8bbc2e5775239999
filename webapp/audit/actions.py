"""The audit log's action codes and the words the Activity page shows for them.

Compare codes, render labels. A new admin action adds a row here and one `audit.record(...)`
call where the action happens.
"""
SIGN_IN = "sign_in.succeeded"
SIGN_IN_FAILED = "sign_in.failed"
MICROSOFT_CONNECTED = "microsoft.connected"
MICROSOFT_RECONNECTED = "microsoft.reconnected"
MICROSOFT_CONNECT_FAILED = "microsoft.connect_failed"
MICROSOFT_DISCONNECTED = "microsoft.disconnected"
GROUP_CHANGED = "group.changed"
SYNC_SETTINGS_CHANGED = "sync_settings.changed"
SCHEDULE_CHANGED = "schedule.changed"  # recorded by automatic sync's settings
SYNC_STARTED = "sync.started"
PREVIEW_STARTED = "sync.preview_started"
REVIEW_APPROVED = "review.approved"
REVIEW_CANCELLED = "review.cancelled"
PERSON_SYNCED = "person.synced_now"  # Sync this person now (engine.one_person)
SYNC_UNDONE = "sync.undone"  # Undo this sync (engine.undo)
AUTOMATIC_SYNC_RESUMED = "schedule.resumed"  # paused by an undo, back on by Sync now
PERSON_EXCLUDED = "person.excluded"
PERSON_INCLUDED = "person.included"
PERSON_ADDED = "person.added"
ROLE_CHANGED = "person.role_changed"
PERSON_REMOVED = "person.removed"
CSV_EXPORTED = "csv.exported"
RETENTION_CHANGED = "retention.changed"
ERASURE_RUN = "erasure.run"
KEYS_ROTATED = "keys.token_cache_rotated"
SUBJECT_ACCESS_EXPORTED = "subject_access.exported"
# Getting in (issue 18): invitations, password resets and changes, Microsoft sign-in links.
INVITED = "invitation.sent"
INVITATION_RESENT = "invitation.resent"
INVITATION_CANCELLED = "invitation.cancelled"
INVITATION_ACCEPTED = "invitation.accepted"
RESET_REQUESTED = "password_reset.requested"
RESET_COMPLETED = "password_reset.completed"
PASSWORD_CHANGED = "password.changed"
MICROSOFT_LINKED = "microsoft_sign_in.linked"
MICROSOFT_UNLINKED = "microsoft_sign_in.unlinked"
OTHER_SESSIONS_SIGNED_OUT = "sessions.others_signed_out"
# Two-step verification (issue 19): never a key, code or challenge in an entry.
TWO_STEP_APP_ADDED = "two_step.app_added"
TWO_STEP_APP_REMOVED = "two_step.app_removed"
PASSKEY_ADDED = "two_step.passkey_added"
PASSKEY_REMOVED = "two_step.passkey_removed"
RECOVERY_CODES_GENERATED = "two_step.recovery_codes_made"
RECOVERY_CODE_USED = "two_step.recovery_code_used"
TWO_STEP_TURNED_OFF = "two_step.turned_off"
TWO_STEP_RESET = "two_step.reset"
TWO_STEP_POLICY_CHANGED = "two_step.policy_changed"

# Recorded without an organisation and shown on every organisation's Activity page.
INSTALLATION_ACTIONS = (KEYS_ROTATED,)

LABELS = {
    SIGN_IN: "Signed in",
    SIGN_IN_FAILED: "Sign-in failed",
    MICROSOFT_CONNECTED: "Connected to Microsoft",
    MICROSOFT_RECONNECTED: "Reconnected to Microsoft",
    MICROSOFT_CONNECT_FAILED: "Connecting to Microsoft failed",
    MICROSOFT_DISCONNECTED: "Disconnected from Microsoft",
    GROUP_CHANGED: "Groups to sync changed",
    SYNC_SETTINGS_CHANGED: "Sync settings changed",
    SCHEDULE_CHANGED: "Sync schedule changed",
    SYNC_STARTED: "Sync started",
    PREVIEW_STARTED: "Preview started",
    REVIEW_APPROVED: "Removals approved after review",
    REVIEW_CANCELLED: "Sync cancelled after review",
    PERSON_SYNCED: "Person synced now",
    SYNC_UNDONE: "Sync undone",
    AUTOMATIC_SYNC_RESUMED: "Automatic sync resumed after an undo",
    PERSON_EXCLUDED: "Person excluded from sync",
    PERSON_INCLUDED: "Person included in sync again",
    PERSON_ADDED: "Person added",
    ROLE_CHANGED: "Role changed",
    PERSON_REMOVED: "Person removed",
    CSV_EXPORTED: "CSV exported",
    RETENTION_CHANGED: "Leaver retention changed",
    ERASURE_RUN: "Leavers erased",
    KEYS_ROTATED: "Token encryption key rotated",
    SUBJECT_ACCESS_EXPORTED: "A person's data downloaded",
    INVITED: "Invitation sent",
    INVITATION_RESENT: "Invitation sent again",
    INVITATION_CANCELLED: "Invitation cancelled",
    INVITATION_ACCEPTED: "Invitation accepted",
    RESET_REQUESTED: "Password reset asked for",
    RESET_COMPLETED: "Password reset",
    PASSWORD_CHANGED: "Password changed",
    MICROSOFT_LINKED: "Microsoft account linked for sign-in",
    MICROSOFT_UNLINKED: "Microsoft account unlinked from sign-in",
    OTHER_SESSIONS_SIGNED_OUT: "Other sessions signed out",
    TWO_STEP_APP_ADDED: "Authenticator app set up for two-step verification",
    TWO_STEP_APP_REMOVED: "Authenticator app removed from two-step verification",
    PASSKEY_ADDED: "Passkey added",
    PASSKEY_REMOVED: "Passkey removed",
    RECOVERY_CODES_GENERATED: "New recovery codes made",
    RECOVERY_CODE_USED: "Recovery code used to sign in",
    TWO_STEP_TURNED_OFF: "Two-step verification turned off",
    TWO_STEP_RESET: "Two-step verification reset",
    TWO_STEP_POLICY_CHANGED: "\"Admins must use two-step verification\" changed",
}


def label(action):
    return LABELS.get(action, action)
