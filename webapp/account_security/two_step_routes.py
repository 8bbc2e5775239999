"""Two-step verification on Sign-in and security: set up the authenticator app, add and remove
passkeys, make new recovery codes, turn it off; and the set-up page an admin is sent to when a
school's policy asks for two-step (webapp.two_step.enforcement lets only these through)."""
from flask import flash, jsonify, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from webapp.account_security.routes import bp, security_page
from webapp.account_security.two_step_context import TwoStepError, two_step_context
from webapp.auth.sessions import current_session_row
from webapp.errors import InvalidFields, ServiceError
from webapp.extensions import db
from webapp.two_step import account, authenticator, passkeys, recovery_codes, status
from webapp.two_step.policy import must_set_up, schools_requiring

NEEDS_PASSWORD = ("Two-step verification protects signing in with your password, and your "
                  "account has none (you sign in with Microsoft). Set a password first.")


def _no_store(response):
    """Pages with a key or recovery codes on them: never kept by the browser or a proxy."""
    response.headers["Cache-Control"] = "no-store"
    return response


def _home_of_two_step():
    """Where two-step pages lead back to: the set-up page while a policy waits for it."""
    if schools_requiring(current_user) and not status.is_on(current_user):
        return url_for("account_security.two_step_setup")
    return url_for("account_security.index") + "#two-step-heading"


def _needs_password():
    """Two-step protects signing in with a password: an account without one has nothing to
    protect, unless this Microsoft sign-in is one two-step protects (a policy sent it here)."""
    return not current_user.password_hash and not must_set_up(current_user,
                                                              current_session_row())


def _back(message, category="error"):
    flash(message, category)
    return redirect(_home_of_two_step(), 303)


def _refused(status_code, form, message, field="", **values):
    """The page the refused form was on, the message next to it."""
    error = TwoStepError(form, message, field)
    if schools_requiring(current_user) and not status.is_on(current_user):
        return _setup_page(status_code, two_step_error=error, **values)
    return security_page(status_code, two_step_error=error, **values)


def _setup_page(status_code=200, **values):
    return render_template("account_security/two_step_setup.html", user=current_user,
                           needs_password=_needs_password(),
                           **two_step_context(current_user, **values)), status_code


def _codes_page(codes, first):
    return _no_store(make_response(render_template(
        "account_security/recovery_codes.html", codes=codes, first=first,
        codes_text="\n".join(codes),
        continue_url=url_for("main.home") if first else url_for("account_security.index"))))


def _say_others_signed_out(ended):
    if ended:
        flash(f"Two-step verification is on, so your account's {ended} other "
              f"session{'' if ended == 1 else 's'} signed in with the password alone "
              f"{'was' if ended == 1 else 'were'} signed out.", "info")


CONFIRMATION_REFUSED = (account.NotConfirmed, account.TooManyAttempts)


def _not_confirmed(error, form):
    too_many = isinstance(error, account.TooManyAttempts)
    return _refused(429 if too_many else 422, form, str(error), field="password")


def _confirmation():
    form = request.form
    return (form.get("password", ""), form.get("confirm_code", ""), request.remote_addr)


@bp.route("/two-step/set-up")
def two_step_setup():
    return _setup_page()


@bp.route("/authenticator/start", methods=["POST"])
def start_authenticator():
    if _needs_password():
        return _back(NEEDS_PASSWORD)
    if authenticator.confirmed_app(current_user) is not None:
        # A new phone replaces the app that works now: a session alone (a stolen cookie) would
        # otherwise swap in its own app, whose codes then pass every "confirm it's you".
        try:
            account.confirm_it_is_you(current_user, *_confirmation())
        except CONFIRMATION_REFUSED as error:
            return _not_confirmed(error, "new_phone")
    authenticator.start_setup(current_user)
    return redirect(url_for("account_security.authenticator_setup"), 303)


@bp.route("/authenticator")
def authenticator_setup():
    row = authenticator.pending_setup(current_user)
    if row is None:
        return _back("Press Set up authenticator app to start (a set-up lasts an hour).", "info")
    return _authenticator_page(row)


def _authenticator_page(row, status_code=200, error=None):
    try:
        shown = authenticator.setup_shown(current_user, row)
    except authenticator.SecretUnreadable:
        return _back("That set-up can no longer be read. Start again with Set up "
                     "authenticator app.")
    return _no_store(make_response(render_template(
        "account_security/authenticator.html", setup=shown, error=error,
        code_max_length=authenticator.CODE_MAX_LENGTH,
        replacing=authenticator.confirmed_app(current_user) is not None,
        two_step_required_by=schools_requiring(current_user)), status_code))


@bp.route("/authenticator", methods=["POST"])
def verify_authenticator():
    user = current_user
    was_on = status.is_on(user)
    try:
        authenticator.confirm_setup(user, request.form.get("code"))
    except authenticator.CodeRefused as error:
        db.session.rollback()
        row = authenticator.pending_setup(user)
        return _authenticator_page(row, 422, str(error)) if row else _back(str(error))
    codes = None if was_on else recovery_codes.replace_all(user)
    _say_others_signed_out(account.sign_out_others_as_it_turns_on(user, was_on))
    db.session.commit()
    if codes:
        return _codes_page(codes, first=True)
    flash("Your authenticator app is set up. Codes from the app you set up before no longer "
          "work.", "success")
    return redirect(_home_of_two_step(), 303)


@bp.route("/authenticator/remove", methods=["POST"])
def remove_authenticator():
    try:
        account.remove_app(current_user, *_confirmation())
    except CONFIRMATION_REFUSED as error:
        return _not_confirmed(error, "remove_app")
    except ServiceError as error:
        return _back(str(error))
    on = status.is_on(current_user)
    flash("Authenticator app removed." + ("" if on else " Two-step verification is now off."),
          "success")
    return redirect(_home_of_two_step(), 303)


@bp.route("/passkeys/options", methods=["POST"])
def passkey_registration_options():
    """JSON for navigator.credentials.create() (static/js/passkeys.js asks for it)."""
    if _needs_password():
        return jsonify(error=NEEDS_PASSWORD), 422
    try:
        options = passkeys.registration_options(current_user, request.form.get("name"))
    except InvalidFields as error:
        return jsonify(error=error.errors["name"], field="name"), 422
    except passkeys.PasskeysUnavailable as error:
        return jsonify(error=str(error)), 503
    return options, 200, {"Content-Type": "application/json", "Cache-Control": "no-store"}


@bp.route("/passkeys", methods=["POST"])
def add_passkey():
    user = current_user
    was_on = status.is_on(user)
    try:
        row = passkeys.register(user, request.form.get("credential"))
    except (passkeys.PasskeyRefused, passkeys.PasskeysUnavailable) as error:
        db.session.rollback()
        return _back(f"The passkey was not added. {error}")
    codes = None if was_on else recovery_codes.replace_all(user)
    _say_others_signed_out(account.sign_out_others_as_it_turns_on(user, was_on))
    db.session.commit()
    if codes:
        flash(f"Passkey “{row.name}” added. Two-step verification is on.", "success")
        return _codes_page(codes, first=True)
    flash(f"Passkey “{row.name}” added.", "success")
    return redirect(_home_of_two_step(), 303)


@bp.route("/passkeys/<int:passkey_id>/remove", methods=["POST"])
def remove_passkey(passkey_id):
    try:
        name = account.remove_passkey(current_user, passkey_id, *_confirmation())
    except CONFIRMATION_REFUSED as error:
        return _not_confirmed(error, f"remove_passkey_{passkey_id}")
    except ServiceError as error:
        return _back(str(error))
    on = status.is_on(current_user)
    flash(f"Passkey “{name}” removed." + ("" if on else " Two-step verification is now off."),
          "success")
    return redirect(_home_of_two_step(), 303)


@bp.route("/recovery-codes", methods=["POST"])
def new_recovery_codes():
    try:
        codes = account.new_recovery_codes(current_user, *_confirmation())
    except CONFIRMATION_REFUSED as error:
        return _not_confirmed(error, "codes")
    except ServiceError as error:
        return _back(str(error))
    return _codes_page(codes, first=False)


@bp.route("/two-step/off", methods=["POST"])
def turn_off_two_step():
    try:
        account.turn_off(current_user, *_confirmation())
    except CONFIRMATION_REFUSED as error:
        return _not_confirmed(error, "off")
    except ServiceError as error:
        return _back(str(error))
    flash("Two-step verification is off: signing in asks for your password only.", "success")
    return redirect(url_for("account_security.index"), 303)
