"""Every model, importable from one place (Alembic and tests use this)."""
from webapp.auth.models import AccountSession, MicrosoftSignInLink, OneTimeToken, User  # noqa: F401
from webapp.orgs.models import Membership, Organisation, Trust  # noqa: F401
from webapp.microsoft.models import (  # noqa: F401
    ConnectAttempt, GroupSnapshot, MicrosoftConnection, SnapshotGroup)
from webapp.microsoft.selection import GroupChoice  # noqa: F401
from webapp.user_sync.models import (  # noqa: F401
    PriorValues, SyncChange, SyncRun, SyncSettings, SyncedPerson)
from webapp.schedule.models import SyncSchedule  # noqa: F401
from webapp.notifications.models import (  # noqa: F401
    DigestSubscription, NotificationEvent, NotificationOptOut)
from webapp.audit.models import AuditEntry  # noqa: F401
from webapp.privacy.models import PrivacySettings  # noqa: F401
from webapp.two_step.models import AuthenticatorApp, Passkey, RecoveryCode, TwoStepPolicy  # noqa: F401
from webapp.versions import SettingsVersion  # noqa: F401
