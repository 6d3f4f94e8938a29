"""Premium end to end through nginx: upgrade, the premium fields in /auth/me, downgrade, and a second downgrade's
409. The expiry's arithmetic, concurrent upgrades, the lapse at expiry and the events are tested at the `Application`
level in Tests/UserServiceTests/PremiumTests.swift; the routes' workers, rate-limit group and no-store for every
route by the table-driven test_nginx_routes.py."""
from auth_helpers import bearer, new_user
from conftest import psql


def test_upgrade_then_me_then_downgrade(stack, http):
    user, tokens = new_user(http, stack)
    upgraded = http.post(stack.url("/api/v1/users/me/upgrade"), headers=bearer(tokens), json={"plan": "yearly"})
    assert upgraded.status_code == 200, upgraded.text
    assert upgraded.headers["Cache-Control"] == "no-store"
    answer = upgraded.json()
    assert answer["id"] == user["id"] and answer["is_premium"] is True and answer["premium_plan"] == "yearly"
    # A year from the database's now, as PostgreSQL adds one (the request ran within the last minute).
    assert psql(f"SELECT premium_expires_at BETWEEN now() + interval '1 year' - interval '1 minute' AND now() + interval '1 year'"
                f" FROM users WHERE id = '{user['id']}'", url=stack.database_url) == "t"

    me = http.get(stack.url("/api/v1/auth/me"), headers=bearer(tokens))
    assert me.status_code == 200 and me.json() == answer

    downgraded = http.post(stack.url("/api/v1/users/me/downgrade"), headers=bearer(tokens))
    assert downgraded.status_code == 200, downgraded.text
    assert downgraded.headers["Cache-Control"] == "no-store"
    basic = downgraded.json()
    assert (basic["is_premium"], basic["premium_plan"], basic["premium_expires_at"]) == (False, None, None)
    assert http.get(stack.url("/api/v1/auth/me"), headers=bearer(tokens)).json()["is_premium"] is False

    again = http.post(stack.url("/api/v1/users/me/downgrade"), headers=bearer(tokens))
    assert again.status_code == 409 and again.json() == {"detail": "Not a premium account"}
    assert psql(f"SELECT string_agg(type, ',' ORDER BY id) FROM security_events WHERE user_id = '{user['id']}'",
                url=stack.database_url) == "login_success,premium_upgraded,premium_downgraded"


def test_the_plan_is_checked_before_anything_changes(stack, http):
    user, tokens = new_user(http, stack)
    refused = http.post(stack.url("/api/v1/users/me/upgrade"), headers=bearer(tokens), json={"plan": "weekly"})
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", "plan"]
    anonymous = http.post(stack.url("/api/v1/users/me/upgrade"), json={"plan": "monthly"})
    assert anonymous.status_code == 401 and anonymous.headers["WWW-Authenticate"] == "Bearer"
    assert http.get(stack.url("/api/v1/users/me"), headers=bearer(tokens)).json()["is_premium"] is False
