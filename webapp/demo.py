"""The demo trust `make run` seeds (`flask --app wsgi demo seed`) and its admin's sign-in,
shown on the sign-in page only in demo mode (DEMO_MODE, set by `make run` without Microsoft)."""
from urllib.parse import urlsplit

DEMO_TRUST = "Oak Learning Trust"
DEMO_ORGANISATIONS = ("Northfield Academy", "Southfield Primary")
DEMO_ADMIN_EMAIL = "it-sync@oaklearning.example"
DEMO_ADMIN_PASSWORD = "demo-password"


def simulator_host(authority):
    """The host a browser names on its certificate warning for the simulated Microsoft
    ("localhost" for https://localhost:8443/organizations)."""
    return urlsplit(authority).hostname or "localhost"
