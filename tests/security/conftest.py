"""Every security test runs against an app pointed at the Microsoft simulator, so that routes
which talk to Microsoft behave as they do in production."""
from tests.microsoft_flow import app_config_overrides  # noqa: F401
