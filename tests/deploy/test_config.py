"""Configuration comes from the environment and fails loudly, naming the setting, when one is
missing, not a number or out of range."""
import os
import re

import pytest

from webapp.config import ConfigError, ProductionConfig, database_url_from_env


def test_heroku_postgres_scheme_is_accepted():
    url = database_url_from_env({"DATABASE_URL": "postgres://u:p@db.example:5432/app"})
    assert url == "postgresql+psycopg://u:p@db.example:5432/app"


def test_default_database_is_sqlite_under_instance():
    assert database_url_from_env({}).endswith("instance/rostersync.sqlite3")


def test_production_without_secret_key_stops_with_a_message_naming_it(monkeypatch):
    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", None)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        ProductionConfig.validate()


@pytest.mark.backends("sqlite")
def test_email_links_reach_the_port_make_run_serves_on(app, admin):
    from scripts.run_local import serve_address
    from webapp.config import public_url_from_env
    from webapp.notifications import events
    from webapp.notifications.messages import compose
    from webapp.notifications.models import NotificationEvent
    environment = {"PORT": "5123"}  # `PORT=5123 make run`
    assert serve_address(environment) == "5123"
    assert environment["PUBLIC_URL"] == "http://127.0.0.1:5123"  # given to the web, worker, clock
    assert public_url_from_env({"PORT": "5123"}) == "http://127.0.0.1:5123"  # a CLI by hand
    chosen = {"PORT": "5123", "PUBLIC_URL": "https://rostersync.school.example"}
    serve_address(chosen)
    assert chosen["PUBLIC_URL"] == "https://rostersync.school.example"  # a set one is kept
    app.config["PUBLIC_URL"] = public_url_from_env(environment)
    mail = compose(NotificationEvent(event=events.SYNC_FAILED, payload='{"reason": "Gone."}'),
                   admin.org)
    assert mail.action_url == f"http://127.0.0.1:5123/o/{admin.org.id}/settings/user-sync/"


# Sets each number setting the app and gunicorn read to a word, in a process of its own (the
# settings are read when webapp.config is imported): each must be refused by its name.
NAMED_REFUSALS = r"""
import importlib, os, re, runpy, sys
import webapp.config
sources = {path: open(path).read() for path in ("webapp/config.py", "gunicorn.conf.py")}
bare = [path for path, text in sources.items() if re.search(r"\b(int|float)\(os\.environ", text)]
names = sorted({name for path, text in sources.items()
                for name in re.findall(r'env_(?:int|float)\("([A-Z_]+)"', text)})
unnamed = []
for name in names:
    os.environ[name] = "five"
    messages = []
    for read in (lambda: importlib.reload(webapp.config),
                 lambda: runpy.run_path("gunicorn.conf.py")):
        try:
            read()
        except Exception as error:  # ConfigError, redefined by each reload
            messages.append(f"{type(error).__name__}: {error}")
    if not any(message.startswith(f"ConfigError: {name} must be") for message in messages):
        unnamed.append((name, messages))
    del os.environ[name]
    importlib.reload(webapp.config)
print(repr((bare, len(names), unnamed)))
"""


def test_every_number_setting_that_is_not_a_number_is_refused_by_its_name():
    """LOGIN_FAILURES_PER_ACCOUNT=five once gave Python's "invalid literal for int()", naming
    no setting: every number the app or gunicorn reads goes through env_int or env_float."""
    import ast
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    environment = {name: value for name, value in os.environ.items()
                   if not name.isupper() or name in ("PATH", "HOME", "LANG")}
    answer = subprocess.run([sys.executable, "-c", NAMED_REFUSALS], cwd=root, env=environment,
                            capture_output=True, text=True, timeout=120)
    assert answer.returncode == 0, answer.stderr
    bare, checked, unnamed = ast.literal_eval(answer.stdout.strip().splitlines()[-1])
    assert bare == [] and unnamed == []
    assert checked >= 30  # the settings found: a sweep that found none would prove nothing


def test_a_clock_interval_of_zero_or_less_stops_the_clock_with_one_line_naming_it(app):
    """0 once left the clock running with no tick registered (automatic sync never ran, with
    nothing said); -5 queued ticks without pause."""
    import subprocess
    import sys
    from pathlib import Path
    from harness.app_config import make_test_config, worker_environment
    for value in (0, -5):
        with pytest.raises(ConfigError, match="CLOCK_INTERVAL_SECONDS must be between 1"):
            make_test_config("sqlite://", "redis://127.0.0.1:1/0",
                             CLOCK_INTERVAL_SECONDS=value).validate()
    answer = subprocess.run([sys.executable, "-m", "jobs.scheduler"],
                            cwd=Path(__file__).resolve().parents[2], capture_output=True,
                            text=True, timeout=60,
                            env=worker_environment(app, {"CLOCK_INTERVAL_SECONDS": "0"}))
    assert answer.returncode != 0
    assert answer.stderr.strip().splitlines()[-1] == (
        "rostersync clock cannot start: CLOCK_INTERVAL_SECONDS must be between 1 and 3600, "
        "not 0.")
    assert "Traceback" not in answer.stderr


def test_gunicorn_names_a_refused_setting_and_keeps_no_shared_control_socket(tmp_path):
    """DB_POOL_SIZE=four once stopped gunicorn with only "Unable to configure formatter
    'json'"; and every gunicorn of the account shared one control socket under $HOME, so a
    second one took the first one's."""
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    gunicorn = [sys.executable, "-m", "gunicorn", "wsgi:app", "--config", "gunicorn.conf.py"]
    refused = subprocess.run(gunicorn, cwd=root, capture_output=True, text=True, timeout=60,
                             env=dict(os.environ, DB_POOL_SIZE="four", HOME=str(tmp_path)))
    assert refused.returncode != 0
    said = refused.stdout + refused.stderr
    assert "DB_POOL_SIZE must be a whole number, not 'four'." in said, said
    assert "Unable to configure formatter" not in said
    settings = subprocess.run(gunicorn + ["--print-config"], cwd=root, capture_output=True,
                              text=True, timeout=60, env=dict(os.environ, HOME=str(tmp_path)))
    assert re.search(r"^control_socket_disable\s+= True$", settings.stdout, re.M), settings.stdout
