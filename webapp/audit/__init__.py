"""The audit log. Everything else writes to it through `audit.record(...)` alone."""
from webapp.audit.service import record  # noqa: F401
