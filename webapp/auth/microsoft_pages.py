"""The pages every Microsoft sign-in flow shares (signing in, linking, an invitation): the trip
to Microsoft, and the page for a sign-in that did not work."""
from flask import redirect, render_template, url_for

from webapp.auth import microsoft


def microsoft_problem_page(problem, again_url=None, status=None):
    """A Microsoft sign-in that did not work: what happened and what to do."""
    status = status or (502 if problem.code == microsoft.UNREACHABLE else 400)
    return render_template("auth/microsoft_problem.html", problem=problem.code,
                           detail=problem.detail, codes=microsoft,
                           again_url=again_url or url_for("auth.login")), status


def go_to_microsoft(purpose, login_hint=None, again_url=None, **context):
    """Redirects to Microsoft's sign-in page for a flow of this purpose (see callbacks)."""
    try:
        return redirect(microsoft.begin(purpose, login_hint, **context))
    except microsoft.MicrosoftSignInProblem as problem:
        return microsoft_problem_page(problem, again_url)
