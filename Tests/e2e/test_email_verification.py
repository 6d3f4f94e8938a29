"""Email verification and changing the address through nginx, end to end, the link's token read from the mail
(`mail_tokens`): at registration and on request, REQUIRE_VERIFIED_EMAIL, a change of address that takes effect only
with the new address's link, and a registration that rolls back, which queues nothing. The races and the other
refusals are tested at the `Application` level (EmailVerificationTests)."""
import uuid

import pytest
import requests

from auth_helpers import PASSWORD, bearer, login, new_user, register
from conftest import psql
from mail_tokens import delivered_mail, mail_count, make_mail_server, make_mailer, token_from_latest_mail  # noqa: F401

@pytest.fixture(autouse=True)
def mail_delivered(stack, delivered_mail):
    """The shared stack's mail goes through the real mailer to a real SMTP server, where the tests read it."""
    delivered_mail(stack)


INVALID = {"detail": "Invalid or expired token"}


def verify(stack, token):
    return requests.post(stack.url("/api/v1/auth/verify-email"), json={"token": token})


def me(stack, tokens):
    return requests.get(stack.url("/api/v1/auth/me"), headers=bearer(tokens)).json()


def test_the_registration_link_verifies_the_address_and_a_verified_account_gets_409(stack, http):
    user, tokens = new_user(http, stack)
    first = token_from_latest_mail(stack, user["email"], "email_verification")
    fresh = requests.post(stack.url("/api/v1/auth/verify-email-request"), headers=bearer(tokens))
    assert fresh.status_code == 202 and fresh.json() == {"message": "Verification email sent"}
    token = token_from_latest_mail(stack, user["email"], "email_verification")
    assert verify(stack, first).json() == INVALID  # superseded by the fresh one
    response = verify(stack, token)
    assert response.status_code == 200 and response.json() == {"message": "Email verified successfully"}
    assert me(stack, tokens)["is_verified"] is True
    assert verify(stack, token).json() == INVALID
    again = requests.post(stack.url("/api/v1/auth/verify-email-request"), headers=bearer(tokens))
    assert again.status_code == 409 and again.json() == {"detail": "Email already verified"}
    assert mail_count(stack, user["email"], "email_verification") == 2


def test_require_verified_email_refuses_an_unverified_login_after_the_right_password(make_stack, http, delivered_mail):
    s = delivered_mail(make_stack(name="verified", workers=1, env={"REQUIRE_VERIFIED_EMAIL": "true"}))
    user = register(http, s)
    refused = requests.post(s.url("/api/v1/auth/login"), json={"email": user["email"], "password": PASSWORD})
    assert refused.status_code == 403 and refused.json() == {"detail": "Email not verified"}
    wrong = requests.post(s.url("/api/v1/auth/login"), json={"email": user["email"], "password": "WrongPass123"})
    assert wrong.status_code == 401
    assert verify(s, token_from_latest_mail(s, user["email"], "email_verification")).status_code == 200
    assert login(http, s, user["email"])["access_token"]


def change_email(stack, tokens, address, password=PASSWORD):
    return requests.post(stack.url("/api/v1/auth/change-email"), headers=bearer(tokens),
                         json={"new_email": address, "password": password})


def test_a_new_address_is_taken_only_with_its_own_link(stack, http):
    user, tokens = new_user(http, stack)
    old_link = token_from_latest_mail(stack, user["email"], "email_verification")
    other = register(http, stack)
    taken = change_email(stack, tokens, other["email"].upper())
    assert taken.status_code == 409 and taken.json() == {"detail": "Email already registered"}
    assert change_email(stack, tokens, "x@example.com", "WrongPass123").json() == {"detail": "Incorrect password"}

    new_address = f"moved-{uuid.uuid4().hex[:8]}@example.com"
    asked = change_email(stack, tokens, new_address.upper())
    assert asked.status_code == 202, asked.text
    assert mail_count(stack, user["email"], "email_change_notice") == 1
    assert me(stack, tokens)["email"] == user["email"]  # nothing changes before the link is followed
    changed = verify(stack, token_from_latest_mail(stack, new_address, "email_verification"))
    assert changed.status_code == 200 and changed.json() == {"message": "Email changed successfully"}
    account = me(stack, tokens)
    assert account["email"] == new_address and account["is_verified"] is True
    assert login(http, stack, new_address)["access_token"]
    assert requests.post(stack.url("/api/v1/auth/login"), json={"email": user["email"], "password": PASSWORD}).status_code == 401
    # The link mailed to the old address verifies nothing any more.
    assert verify(stack, old_link).json() == INVALID


def test_a_registration_that_rolls_back_queues_nothing(stack, http):
    # A deferred trigger fails this one registration at COMMIT, after its mail was queued (it notes that in a
    # sequence, which no rollback undoes).
    email = f"rollback-{uuid.uuid4().hex[:8]}@example.com"
    psql(f"""
        CREATE SEQUENCE mails_seen_at_commit MINVALUE 0 START 0;
        CREATE FUNCTION fail_registration() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM setval('mails_seen_at_commit', (SELECT count(*) FROM mail_outbox WHERE user_id = NEW.id));
            RAISE EXCEPTION 'registration failed at commit';
        END $$;
        CREATE CONSTRAINT TRIGGER fail_registration AFTER INSERT ON users DEFERRABLE INITIALLY DEFERRED
            FOR EACH ROW WHEN (NEW.email = '{email}') EXECUTE FUNCTION fail_registration();
        """, url=stack.database_url)
    try:
        response = requests.post(stack.url("/api/v1/auth/register"), json={
            "email": email, "username": "rb_" + uuid.uuid4().hex[:8], "password": PASSWORD, "confirm_password": PASSWORD})
        assert response.status_code == 500
        assert psql("SELECT last_value FROM mails_seen_at_commit", url=stack.database_url) == "1"
        assert mail_count(stack, email, "email_verification") == 0
        assert psql(f"SELECT count(*) FROM users WHERE email = '{email}'", url=stack.database_url) == "0"
        assert psql(f"SELECT count(*) FROM email_verifications WHERE email = '{email}'", url=stack.database_url) == "0"
    finally:
        psql("DROP TRIGGER fail_registration ON users; DROP FUNCTION fail_registration(); DROP SEQUENCE mails_seen_at_commit",
             url=stack.database_url)
