"""Helpers for tests that need accounts and tokens, through the public API only."""
import uuid

PASSWORD = "SecurePass123"


def register(http, stack, **fields):
    name = uuid.uuid4().hex[:10]
    body = {"email": f"{name}@example.com", "username": f"user_{name}", "full_name": "Test User",
            "password": PASSWORD, "confirm_password": PASSWORD}
    body.update(fields)
    response = http.post(stack.url("/api/v1/auth/register"), json=body)
    assert response.status_code == 201, response.text
    return response.json()


def login(http, stack, login, password=PASSWORD, **headers):
    response = http.post(stack.url("/api/v1/auth/login"), json={"email": login, "password": password}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def bearer(tokens):
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def new_user(http, stack, **fields):
    """A registered user and a fresh login: (user, tokens)."""
    user = register(http, stack, **fields)
    return user, login(http, stack, user["email"])
