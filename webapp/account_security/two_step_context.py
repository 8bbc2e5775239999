"""What the two-step parts of Sign-in and security (and the set-up page) show for an account."""
from dataclasses import dataclass

from webapp.two_step import authenticator, passkeys, recovery_codes, status
from webapp.two_step.models import PASSKEY_NAME_MAX_LENGTH
from webapp.two_step.policy import schools_requiring


@dataclass(frozen=True)
class TwoStepError:
    """A refused two-step form: which one (form), and why (message), shown next to it."""
    form: str
    message: str
    field: str = ""


def two_step_context(user, **values):
    return {
        "two_step": status.methods_of(user),
        "app_setup_waiting": authenticator.pending_setup(user) is not None,
        "two_step_required_by": schools_requiring(user),
        "passkey_problem": passkeys.unavailable_reason(),
        "passkey_name_max_length": PASSKEY_NAME_MAX_LENGTH,
        "recovery_code_count": recovery_codes.COUNT,
        "code_max_length": authenticator.CODE_MAX_LENGTH,
        "two_step_error": None,
        **values,
    }
