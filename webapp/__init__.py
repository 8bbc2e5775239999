"""rostersync: the Flask application factory."""
import redis
import sqlalchemy.exc
from flask import Flask, g, render_template, request, session
from werkzeug.middleware.proxy_fix import ProxyFix

from webapp.auth.models import EMAIL_MAX_LENGTH, NAME_MAX_LENGTH
from webapp.config import INSTANCE_DIR, PROJECT_ROOT, config_from_env, engine_options
from webapp.errors import NotFound
from webapp.htmx import is_htmx_request
from webapp.search import MAX_LENGTH as SEARCH_MAX_LENGTH
from webapp.extensions import csrf, db, login_manager, migrate


def create_app(config_class=None):
    config_class = config_class or config_from_env()
    config_class.validate()
    app = Flask(__name__, template_folder=str(PROJECT_ROOT / "templates"),
                static_folder=str(PROJECT_ROOT / "static"), instance_path=str(INSTANCE_DIR))
    app.config.from_object(config_class)
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", engine_options(app.config))
    from webapp.error_reporting import init_error_reporting
    from webapp.logs import init_request_logging
    init_request_logging(app)
    init_error_reporting(app)
    from webapp.microsoft.client_secret import init_client_secret_notice
    init_client_secret_notice(app)
    if app.config["PROXY_FIX_X_FOR"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_FIX_X_FOR"], x_proto=1)
    from webapp.request_input import init_request_input
    init_request_input(app)  # before the routes: their <int:...> parts use its converter
    _init_extensions(app)
    _register_blueprints(app)
    _register_error_pages(app)
    _register_template_context(app)
    from webapp.dates import init_dates
    init_dates(app)
    from webapp.cli import init_cli
    from webapp.security import init_security
    init_cli(app)
    init_security(app)
    from webapp.schedule.outcomes import init_schedule
    init_schedule(app)
    from webapp.two_step.enforcement import init_two_step_policy
    init_two_step_policy(app)
    return app


def _init_extensions(app):
    INSTANCE_DIR.mkdir(exist_ok=True)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    from webapp.auth.signed_out import init_signed_out
    init_signed_out(login_manager)
    import webapp.models  # noqa: F401  (every model registered before first use)

    @login_manager.user_loader
    def load_user(user_id):
        from webapp.auth.sessions import user_for_request
        return user_for_request(int(user_id))


def _register_blueprints(app):
    from webapp.auth import (microsoft_routes, recovery_routes, routes,  # noqa: F401  (their views)
                             second_step_routes)
    from webapp.auth.blueprint import bp as auth_bp
    from webapp.account_security import two_step_routes  # noqa: F401  (its views)
    from webapp.account_security.routes import bp as account_security_bp
    from webapp.invitations.routes import bp as invitations_bp
    from webapp.health.routes import bp as health_bp
    from webapp.main.routes import bp as main_bp, org_bp as org_home_bp
    from webapp.users.routes import bp as users_bp
    from webapp.user_sync import person_routes, picker_preview_routes, routes, undo_routes  # noqa: F401,F811  (their views)
    from webapp.user_sync.blueprint import bp as user_sync_bp
    for blueprint in (auth_bp, account_security_bp, invitations_bp, health_bp, main_bp,
                      org_home_bp, users_bp, user_sync_bp):
        app.register_blueprint(blueprint)
    from webapp.microsoft import picker_routes, routes  # noqa: F401  (their views, on one blueprint)
    from webapp.microsoft.blueprint import bp as microsoft_bp, callback_bp as microsoft_callback_bp
    from webapp.troubleshooting.routes import bp as troubleshooting_bp
    for blueprint in (microsoft_bp, microsoft_callback_bp, troubleshooting_bp):
        app.register_blueprint(blueprint)
    from webapp.audit.routes import bp as audit_bp
    from webapp.notifications.routes import bp as notifications_bp
    from webapp.privacy import routes, subject_access_routes  # noqa: F401,F811  (their views)
    from webapp.privacy.blueprint import bp as privacy_bp
    from webapp.schedule.routes import bp as schedule_bp
    from webapp.trust.routes import bp as trust_bp
    from webapp.two_step.routes import bp as two_step_policy_bp
    for blueprint in (schedule_bp, notifications_bp, audit_bp, privacy_bp, trust_bp,
                      two_step_policy_bp):
        app.register_blueprint(blueprint)


def _register_error_pages(app):
    from flask_wtf.csrf import CSRFError
    from webapp.security import page_came_from

    @app.errorhandler(404)
    @app.errorhandler(NotFound)
    def not_found(error):
        return _error_page("errors/404.html", 404, PROBLEMS[404])

    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        from webapp.auth.signed_out import is_signed_out_form_post, sign_in_again
        if is_signed_out_form_post():
            return sign_in_again()
        return _error_page("errors/csrf.html", 400, PROBLEMS[400], back_url=page_came_from())

    @app.errorhandler(500)
    def server_error(error):
        return _error_page("errors/500.html", 500, PROBLEMS[500], back_url=page_came_from())

    @app.errorhandler(redis.ConnectionError)
    @app.errorhandler(redis.TimeoutError)
    def redis_unreachable(error):
        return _service_unavailable(app, "redis", error)

    @app.errorhandler(sqlalchemy.exc.OperationalError)
    def database_unreachable(error):
        return _service_unavailable(app, "database", error)


PROBLEMS = {
    400: "This page was out of date, so nothing was changed. Reload the page and try again.",
    404: "That is no longer available to you (it may have been removed, or your role changed). "
         "Reload the page.",
    500: "Something went wrong, so nothing was changed. Try again in a minute; if it keeps "
         "happening, contact support.",
    503: "rostersync could not reach a service it needs, so nothing was changed. Try again in "
         "a minute.",
}


def _error_page(template, status, problem, **context):
    """The error page; for an HTMX request the problem alone, never a page inside a card."""
    if is_htmx_request():
        return render_template("errors/_problem.html", problem=problem), status
    return render_template(template, **context), status


def _service_unavailable(app, service, error):
    """503, on a page that needs neither the database nor Redis to render."""
    app.logger.error("%s unreachable during %s %s: %s", service, request.method, request.path,
                     error.__class__.__name__, exc_info=error)
    page, status = _error_page("errors/unavailable.html", 503, PROBLEMS[503], service=service,
                               support_url=app.config["SUPPORT_URL"])
    return page, status, {"Retry-After": "30"}


def _schools_page_org_id(schools, organisation):
    """Where Settings › Schools is reached from (the current school if the account administers
    it, else the first it administers), or None when it administers fewer than two."""
    from webapp.orgs.services import administered_of
    administered = administered_of(schools)
    if len(administered) < 2:
        return None
    return organisation.id if organisation is not None and organisation.id in administered \
        else administered[0]


def _register_template_context(app):
    from webapp.demo import simulator_host
    from webapp.orgs.context import account_schools
    demo_simulator_host = simulator_host(app.config["MICROSOFT_AUTHORITY"])  # config is fixed

    @app.context_processor
    def inject_navigation():
        organisation = getattr(g, "organisation", None)
        # Functions, called by the templates that show them: an HTMX partial (a row polling
        # every few seconds) never reads a trust admin's hundreds of schools.
        return {
            "current_organisation": organisation,
            "current_membership": getattr(g, "membership", None),
            "header_schools": account_schools,
            "schools_page_org_id": lambda: _schools_page_org_id(account_schools(), organisation),
            "demo_mode": app.config["DEMO_MODE"],
            "simulator_host": demo_simulator_host,
            "support_url": app.config["SUPPORT_URL"],
            "session_org_id": session.get("org_id"),
            "search_max_length": SEARCH_MAX_LENGTH,
            "email_max_length": EMAIL_MAX_LENGTH,
            "name_max_length": NAME_MAX_LENGTH,
        }
