"""The settings `make run` chose (its embedded Redis's socket, the simulator's app registration,
the generated keys...), kept in instance/make-run-settings.json while it runs, so a
`flask --app wsgi ...` typed in a second terminal (a hand tick, a CLI command) reaches the same
Redis, database and Microsoft with nothing to copy. `make run` writes the file when everything
is chosen and removes it when it stops; wsgi.py adopts it before the app reads its settings.

Only variables the shell has not set are adopted, and only while the `make run` that wrote the
file is still running (a file left by a crash is ignored).
"""
import json
import os
from pathlib import Path

SETTINGS_FILE = Path(__file__).resolve().parent.parent / "instance" / "make-run-settings.json"


def write(chosen, path=SETTINGS_FILE):
    """Keeps `chosen` ({name: value}) for other terminals; readable by this user only."""
    path.parent.mkdir(exist_ok=True)
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text(json.dumps({"pid": os.getpid(), "environment": chosen}, indent=1))


def remove(path=SETTINGS_FILE):
    path.unlink(missing_ok=True)


def adopt(environ=os.environ, path=SETTINGS_FILE):
    """Sets each of a running `make run`'s settings that `environ` lacks; returns their names."""
    try:
        kept = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    if not _running(kept.get("pid")):
        return []
    adopted = [name for name in kept.get("environment", {}) if name not in environ]
    for name in adopted:
        environ[name] = kept["environment"][name]
    return adopted


def _running(pid):
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, but another user's
        return True
    return True
