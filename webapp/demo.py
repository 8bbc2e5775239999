"""The demo trust `make run` seeds (`flask --app wsgi demo seed`) and its admin's sign-in,
shown on the sign-in page only in demo mode (DEMO_MODE, set by `make run` without Microsoft)."""
DEMO_TRUST = "Oak Learning Trust"
DEMO_ORGANISATIONS = ("Northfield Academy", "Southfield Primary")
DEMO_ADMIN_EMAIL = "it-sync@oaklearning.example"
DEMO_ADMIN_PASSWORD = "demo-password"
