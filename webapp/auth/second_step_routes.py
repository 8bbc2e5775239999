"""The second step of signing in: Verification code, Use a passkey, Use a recovery code.

Only a browser that has just given the right password (or signed in with a Microsoft account
two-step protects) for an account with two-step reaches these pages
(webapp.two_step.second_step); any other is sent to the sign-in page.
"""
from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from webapp.auth.blueprint import bp
from webapp.auth.next_page import finish_sign_in
from webapp.auth.signed_out import public_form
from webapp.two_step import recovery_codes, second_step, status
from webapp.two_step.authenticator import CODE_MAX_LENGTH
from webapp.two_step.passkeys import unavailable_reason

START_AGAIN = ("Sign in with your email address and password (or with Microsoft) first. (A "
               "sign-in waits 10 minutes for its second step.)")
FEW_CODES_LEFT = 3


def _start_again():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    flash(START_AGAIN, "info")
    return redirect(url_for("auth.login"), 303 if request.method == "POST" else 302)


def _page(waiting, status_code=200, error=None, error_for="code", template="auth/second_step.html"):
    return render_template(template, methods=status.methods_of(waiting.user), error=error,
                           first_step=waiting.method,
                           error_for=error_for, passkey_problem=unavailable_reason(),
                           code_max_length=CODE_MAX_LENGTH,
                           recovery_code_max_length=recovery_codes.MAX_LENGTH), status_code


def _signed_in(waiting, kind):
    response = finish_sign_in(waiting.user, waiting.method, waiting.next_url,
                              waiting.microsoft_account, second_step_kind=kind)
    if kind == status.RECOVERY_CODE:
        left = recovery_codes.left(waiting.user)
        flash(f"You signed in with a recovery code; {left} of your codes "
              f"{'is' if left == 1 else 'are'} left. Lost your phone? Set up the app again, or "
              "make new codes, on Sign-in and security.",
              "warning" if left <= FEW_CODES_LEFT else "info")
    return response


@bp.route("/login/two-step")
def second_step_page():
    waiting = second_step.pending()
    return _page(waiting) if waiting else _start_again()


@bp.route("/login/two-step", methods=["POST"])
@public_form
def second_step_code():
    waiting = second_step.pending()
    if waiting is None:
        return _start_again()
    try:
        kind = second_step.verify_code(waiting, request.form.get("code"), request.remote_addr)
    except second_step.StepRefused as refusal:
        return _page(waiting, refusal.status_code, str(refusal), "code")
    return _signed_in(waiting, kind)


@bp.route("/login/two-step/recovery")
def second_step_recovery_page():
    waiting = second_step.pending()
    if waiting is None:
        return _start_again()
    return _page(waiting, template="auth/second_step_recovery.html")


@bp.route("/login/two-step/recovery", methods=["POST"])
@public_form
def second_step_recovery():
    waiting = second_step.pending()
    if waiting is None:
        return _start_again()
    try:
        kind = second_step.verify_recovery_code(waiting, request.form.get("recovery_code"),
                                                request.remote_addr)
    except second_step.StepRefused as refusal:
        return _page(waiting, refusal.status_code, str(refusal), "recovery",
                     template="auth/second_step_recovery.html")
    return _signed_in(waiting, kind)


@bp.route("/login/two-step/passkey/options", methods=["POST"])
@public_form
def second_step_passkey_options():
    """JSON for navigator.credentials.get() (static/js/passkeys.js asks for it)."""
    waiting = second_step.pending()
    if waiting is None:
        return jsonify(error=START_AGAIN), 401
    try:
        options = second_step.passkey_options(waiting, request.remote_addr)
    except second_step.StepRefused as refusal:
        return jsonify(error=str(refusal)), refusal.status_code
    return options, 200, {"Content-Type": "application/json", "Cache-Control": "no-store"}


@bp.route("/login/two-step/passkey", methods=["POST"])
@public_form
def second_step_passkey():
    waiting = second_step.pending()
    if waiting is None:
        return _start_again()
    try:
        kind = second_step.verify_passkey(waiting, request.form.get("credential"),
                                          request.remote_addr)
    except second_step.StepRefused as refusal:
        return _page(waiting, refusal.status_code, str(refusal), "passkey")
    return _signed_in(waiting, kind)
