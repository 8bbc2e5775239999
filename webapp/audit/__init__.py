"""The audit log. Everything else writes to it through `audit.record(...)` (or, for many
entries of one action at once, `audit.record_many(...)`) alone."""
from webapp.audit.service import record, record_many  # noqa: F401
