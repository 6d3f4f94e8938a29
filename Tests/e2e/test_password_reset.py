"""The password reset through nginx, end to end: the request (the same answer for any address, at most
PASSWORD_RESET_MAX_PER_HOUR links an hour), the link's token read from the mail (`mail_tokens`), the confirmation
(every session revoked, the login throttle cleared, a notice mailed), and the tokens that must not work. Time is
moved in the database, never waited for. The statements behind the same answer, the rules on the new password and
the limit's race are tested at the `Application` level (PasswordResetTests)."""
import concurrent.futures
import uuid

import pytest
import requests

from auth_helpers import PASSWORD, login, register
from conftest import HeldTransaction, psql, wait_for
from mail_tokens import delivered_mail, mail_count, make_mail_server, make_mailer, token_from_latest_mail  # noqa: F401

@pytest.fixture(autouse=True)
def mail_delivered(stack, delivered_mail):
    """The shared stack's mail goes through the real mailer to a real SMTP server, where the tests read it."""
    delivered_mail(stack)


NEW_PASSWORD = "EvenBetterPass456"
REQUESTED = {"message": "If the address is registered, a reset link has been sent"}
INVALID = {"detail": "Invalid or expired token"}


def request_reset(stack, email):
    return requests.post(stack.url("/api/v1/auth/password-reset-request"), json={"email": email})


def confirm(stack, token, password=NEW_PASSWORD):
    return requests.post(stack.url("/api/v1/auth/password-reset-confirm"),
                         json={"token": token, "new_password": password, "confirm_password": password})


def reset_token(stack, email, typed=None):
    """Asks for a reset of `email` (as `typed`, if given) and returns the token its mail carries."""
    response = request_reset(stack, typed or email)
    assert response.status_code == 202 and response.json() == REQUESTED, response.text
    return token_from_latest_mail(stack, email, "password_reset")


def login_status(stack, email, password):
    return requests.post(stack.url("/api/v1/auth/login"), json={"email": email, "password": password}).status_code


def test_a_reset_revokes_every_session_clears_the_throttle_and_mails_a_notice(stack, http):
    user = register(http, stack)
    first, second = login(http, stack, user["email"]), login(http, stack, user["username"])
    assert login_status(stack, user["email"], "WrongPass123") == 401
    assert psql(f"SELECT count(*) FROM login_throttle WHERE identifier = '{user['email']}'", url=stack.database_url) == "1"

    token = reset_token(stack, user["email"], typed=f' {user["email"].upper()} ')
    response = confirm(stack, token)
    assert response.status_code == 200 and response.json() == {"message": "Password has been reset"}
    assert response.headers["Cache-Control"] == "no-store"
    assert psql(f"SELECT count(*) FROM login_throttle WHERE identifier = '{user['email']}'", url=stack.database_url) == "0"
    assert login_status(stack, user["email"], PASSWORD) == 401
    for tokens in (first, second):
        refreshed = requests.post(stack.url("/api/v1/auth/refresh"), json={"refresh_token": tokens["refresh_token"]})
        assert refreshed.status_code == 401
        me = requests.get(stack.url("/api/v1/auth/me"), headers={"Authorization": f"Bearer {tokens['access_token']}"})
        assert me.status_code == 401
    assert mail_count(stack, user["email"], "password_changed") == 1
    assert login(http, stack, user["email"], NEW_PASSWORD)["access_token"]
    events = requests.get(stack.url("/api/v1/auth/events"),
                          headers={"Authorization": f"Bearer {login(http, stack, user['email'], NEW_PASSWORD)['access_token']}"})
    assert {"password_reset_requested", "password_reset"} <= {e["type"] for e in events.json()["items"]}


def test_used_expired_superseded_and_inactive_account_tokens_get_the_same_400(stack, http):
    user = register(http, stack)
    superseded = reset_token(stack, user["email"])
    token = reset_token(stack, user["email"])
    assert confirm(stack, superseded).json() == INVALID
    psql(f"UPDATE users SET is_active = false WHERE id = '{user['id']}'", url=stack.database_url)
    inactive = confirm(stack, token)
    psql(f"UPDATE users SET is_active = true WHERE id = '{user['id']}'", url=stack.database_url)
    psql(f"UPDATE password_resets SET expires_at = expires_at - interval '61 minutes' WHERE user_id = '{user['id']}'",
         url=stack.database_url)
    expired = confirm(stack, token)
    psql(f"UPDATE password_resets SET expires_at = expires_at + interval '61 minutes' WHERE user_id = '{user['id']}'",
         url=stack.database_url)
    assert confirm(stack, token).status_code == 200
    used = confirm(stack, token, "ThirdNewPass789")
    unknown = confirm(stack, "A" * 43)
    for response in (inactive, expired, used, unknown):
        assert response.status_code == 400 and response.json() == INVALID
    assert login_status(stack, user["email"], NEW_PASSWORD) == 200


def comparable_headers(response):
    return sorted((name.lower(), value) for name, value in response.headers.items()
                  if name.lower() not in ("date", "x-request-id"))


def test_an_unknown_or_inactive_address_gets_exactly_the_answer_a_registered_one_gets(stack, http):
    user, inactive = register(http, stack), register(http, stack)
    psql(f"UPDATE users SET is_active = false WHERE id = '{inactive['id']}'", url=stack.database_url)
    answers = [request_reset(stack, email)
               for email in (user["email"], f"nobody-{uuid.uuid4().hex[:8]}@example.com", inactive["email"])]
    for answer in answers:
        assert answer.status_code == 202 and answer.content == answers[0].content
        assert comparable_headers(answer) == comparable_headers(answers[0])
    assert mail_count(stack, user["email"], "password_reset") == 1
    assert mail_count(stack, inactive["email"], "password_reset") == 0


def test_beyond_the_hourly_limit_the_same_answer_no_mail_no_token_and_the_last_link_still_works(stack, http):
    user = register(http, stack)
    tokens = [reset_token(stack, user["email"]) for _ in range(3)]
    fourth = request_reset(stack, user["email"])
    assert fourth.status_code == 202 and fourth.json() == REQUESTED
    assert mail_count(stack, user["email"], "password_reset") == 3
    assert psql(f"SELECT count(*) FROM password_resets WHERE user_id = '{user['id']}'", url=stack.database_url) == "3"
    assert token_from_latest_mail(stack, user["email"], "password_reset") == tokens[-1]
    assert confirm(stack, tokens[-1]).status_code == 200


def test_two_confirmations_of_one_token_cannot_both_win(stack, http):
    user = register(http, stack)
    token = reset_token(stack, user["email"])
    # Both confirmations find the token valid and hash their password, then wait for the account's row.
    row = HeldTransaction(stack.database_url, f"SELECT id FROM users WHERE id = '{user['id']}' FOR NO KEY UPDATE")
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        attempts = [pool.submit(confirm, stack, token, password) for password in ("FirstNewPass123", "SecondNewPass456")]
        waiting = "SELECT count(DISTINCT l.pid) FROM pg_locks l JOIN pg_stat_activity a USING (pid) " \
                  "WHERE NOT l.granted AND a.datname = current_database()"
        wait_for(lambda: int(psql(waiting, url=stack.database_url)) >= 2,
                 timeout=30, message="both confirmations waiting for the account")
        row.commit()
        answers = [attempt.result(timeout=30) for attempt in attempts]
    assert sorted(answer.status_code for answer in answers) == [200, 400]
    loser = next(answer for answer in answers if answer.status_code == 400)
    assert loser.json() == INVALID
    winner = "FirstNewPass123" if answers[0].status_code == 200 else "SecondNewPass456"
    assert login_status(stack, user["email"], winner) == 200
    assert mail_count(stack, user["email"], "password_changed") == 1
