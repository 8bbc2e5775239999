"""Account jobs on the 'quick' queue: a Forgot your password request, looked up away from the
request so that the answer takes the same time whether or not the account exists."""
from datetime import datetime

from jobs.context import with_app_context


@with_app_context
def password_reset_requested_job(email_normalised, address, as_of):
    from webapp.auth.recovery import send_reset_link
    return send_reset_link(email_normalised, address or None, datetime.fromisoformat(as_of))
