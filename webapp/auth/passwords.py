"""The password rule, judged by zxcvbn (a maintained strength estimator, no list of our own).

A password needs 12 to 128 characters and a zxcvbn score of 3 or more ("safely unguessable"),
and the same again once the person's own name, email address and school names are taken out
of it: "Zoe-Angstrom-1234" is refused because without "Zoe" and "Angstrom" it is "--1234".
Every refusal is one sentence for the page, next to the field. However a new password arrives
(a reset link, an invitation, Sign-in and security), set_new_password judges and sets it.
"""
import re

from zxcvbn import zxcvbn

from webapp.auth import tokens
from webapp.errors import ServiceError

MIN_LENGTH, MAX_LENGTH = 12, 128
STRONG_ENOUGH = 3
# zxcvbn refuses longer input; beyond this a password is judged on its first 72 characters.
ZXCVBN_MAX = 72
TOO_EASY = "This password is too easy to guess. Try three or four unrelated words together."
BUILT_FROM_YOU = ("This password is built from your name, email address or school. Use words "
                  "that have nothing to do with you.")
MISMATCH = "The two passwords are different. Type the same new password in both boxes."


class PasswordRefused(ServiceError):
    """A password refused; str() is the reason, field the form field it belongs next to."""

    def __init__(self, message, field="password"):
        super().__init__(message)
        self.field = field


def personal_words(user, extra=()):
    """Pieces of the person's name, email address and schools that a password must not lean on."""
    email = (user.email or "").lower()
    local, _, domain = email.partition("@")
    texts = [user.display_name or "", local, *domain.split("."), *extra, "rostersync"]
    words = set()
    for text in texts:
        words.update(piece for piece in re.split(r"[^\w]+|_", text.lower()) if len(piece) >= 3)
    return sorted(words, key=len, reverse=True)


def password_problem(password, user, extra_words=()):
    """None if the password may be used; otherwise why not, in one sentence."""
    password = password or ""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    words = personal_words(user, extra_words)
    verdict = zxcvbn(password[:ZXCVBN_MAX], user_inputs=words)
    if verdict["score"] < STRONG_ENOUGH:
        return _reason(verdict)
    remainder = _without(password, words)
    if remainder != password and (len(remainder) < MIN_LENGTH // 2 or zxcvbn(
            remainder[:ZXCVBN_MAX], user_inputs=words)["score"] < STRONG_ENOUGH):
        return BUILT_FROM_YOU
    return None


def _reason(verdict):
    if any(match.get("dictionary_name") == "user_inputs" for match in verdict["sequence"]):
        return BUILT_FROM_YOU
    warning = verdict["feedback"].get("warning")
    return f"{warning} {TOO_EASY}" if warning else TOO_EASY


def _without(password, words):
    remainder = password
    for word in words:
        remainder = re.sub(re.escape(word), "", remainder, flags=re.IGNORECASE)
    return remainder


def check_new_password(password, confirmation, user, extra_words=()):
    """Raises PasswordRefused (next to the new password, or its confirmation) unless usable."""
    problem = password_problem(password, user, extra_words)
    if problem:
        raise PasswordRefused(problem)
    if password != (confirmation or ""):
        raise PasswordRefused(MISMATCH, field="confirmation")


def set_new_password(user, password, confirmation, extra_words=(), link=None):
    """Judges the new password (PasswordRefused), uses the one-time link it came with, if any
    (LinkProblem if another request used it meanwhile), sets it and revokes the account's open
    reset links: one mailed before must not undo it. The caller commits."""
    check_new_password(password, confirmation, user, extra_words)
    if link is not None:
        tokens.use(link)  # before the revoke below, which would otherwise take a reset link too
    user.set_password(password)
    tokens.revoke_open(user.id, tokens.PASSWORD_RESET, tokens.PASSWORD_CHANGED)
