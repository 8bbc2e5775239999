from scripts import make_run_settings

# A `flask --app wsgi ...` in a second terminal beside `make run` uses that run's settings; read
# before the app reads its configuration from the environment.
make_run_settings.adopt()

from webapp import create_app  # noqa: E402

app = create_app()
