"""The pages every one-time link shares (an invitation, a password reset): a link that cannot be
used, said plainly with a way to a fresh one, and a link opened by someone signed in as another
account (nothing changes; they are offered to sign out); and the post of the "set your
password" form both links lead to."""
from flask import render_template, request
from flask_login import current_user

from webapp.auth import tokens
from webapp.auth.passwords import PasswordRefused


def link_problem_page(problem, purpose):
    return render_template("auth/link_problem.html", problem=problem.code, purpose=purpose,
                           link=problem.row, tokens=tokens), 410 if problem.row else 404


def someone_elses(link):
    """The page for a link that is not the signed-in person's, or None if it may be used."""
    if current_user.is_authenticated and current_user.id != link.user_id:
        return render_template("auth/other_account.html", purpose=link.purpose), 409
    return None


def opened(open_link, token, purpose):
    """(the link, None) when open_link(token) gives one this browser may use; else (None, the
    page that says why not)."""
    try:
        link = open_link(token)
    except tokens.LinkProblem as problem:
        return None, link_problem_page(problem, purpose)
    refusal = someone_elses(link)
    return (None, refusal) if refusal else (link, None)


def set_password_from_link(purpose, open_link, set_password, form_page, done):
    """Answers the post of a link's "set your password" form. A link that cannot be used gets the
    page that says why; a refused password gets form_page(token, link, 422, error), the reason
    next to its field. Once set_password(token, password, confirmation) has set it and used the
    link, done(link, account) answers: what differs between the kinds of link comes after."""
    token = request.form.get("token", "")
    link, refusal = opened(open_link, token, purpose)
    if refusal:
        return refusal
    try:
        user = set_password(token, request.form.get("password", ""),
                            request.form.get("confirmation", ""))
    except tokens.LinkProblem as problem:  # used up by another request meanwhile
        return link_problem_page(problem, purpose)
    except PasswordRefused as error:
        return form_page(token, link, 422, error)
    return done(link, user)
