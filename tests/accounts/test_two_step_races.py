"""Two tabs removing the account's last two ways to verify at the same moment: the second waits
for the first and then meets the last one's checks (the password again, the school's policy),
instead of each counting two ways and leaving the account with none, unasked."""
import pytest
from sqlalchemy import func, select, text

from tests.sync.races import in_a_thread_of_its_own, wait_for_waiters
from webapp.auth.models import User
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.two_step import account
from webapp.two_step.models import AuthenticatorApp, Passkey

pytestmark = pytest.mark.backends("postgresql")  # row locks: SQLite has one writer at a time
ADDRESS = "192.0.2.7"


def test_removing_the_app_and_the_last_passkey_at_once_asks_for_the_password(app, factory):
    user = factory.user("two.tabs@school.example", [factory.organisation()])
    db.session.add(AuthenticatorApp(user_id=user.id, secret_encrypted=b"unused here",
                                    confirmed_at=utcnow()))
    passkey = Passkey(user_id=user.id, credential_id=b"credential", public_key=b"key",
                      name="Laptop")
    db.session.add(passkey)
    db.session.commit()
    user_id, passkey_id = user.id, passkey.id
    outcome = {}

    def remove_app():
        return account.remove_app(db.session.get(User, user_id), None, None, ADDRESS)

    def remove_passkey():
        return account.remove_passkey(db.session.get(User, user_id), passkey_id, None, None,
                                      ADDRESS)

    db.session.execute(text("LOCK TABLE audit_entries IN EXCLUSIVE MODE"))
    threads = [in_a_thread_of_its_own(app, remove_app, outcome, "app")]
    try:
        wait_for_waiters(1, *threads)  # the app deleted, not yet committed: at its audit entry
        threads.append(in_a_thread_of_its_own(app, remove_passkey, outcome, "passkey"))
        wait_for_waiters(2, *threads)
    finally:
        db.session.rollback()  # the audit lock goes: both carry on
        for thread in threads:
            thread.join(timeout=30)

    assert outcome["app"] is None, outcome
    assert isinstance(outcome["passkey"], account.NotConfirmed), outcome
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Passkey).where(
        Passkey.user_id == user_id)) == 1  # the last way to verify stays until asked properly
