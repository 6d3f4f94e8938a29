"""Sibling services of the replaced FastAPI service verify access tokens with the shared JWT_SECRET_KEY and PyJWT,
passing no audience. JWT_AUDIENCE= and JWT_ISSUER= set empty (the compatibility setting) make such tokens."""
import jwt
import pytest
import requests

from auth_helpers import bearer, new_user


def test_compatibility_setting_writes_neither_audience_nor_issuer(make_stack, http):
    s = make_stack(name="sibling", workers=1, env={"JWT_AUDIENCE": "", "JWT_ISSUER": ""})
    _, tokens = new_user(http, s)
    # As a sibling service decodes it: the shared secret, HS256, no audience.
    claims = jwt.decode(tokens["access_token"], s.settings["JWT_SECRET_KEY"], algorithms=["HS256"])
    assert "aud" not in claims and "iss" not in claims and claims["type"] == "access"
    assert requests.get(s.url("/api/v1/auth/me"), headers=bearer(tokens)).status_code == 200


def test_default_tokens_carry_an_audience_that_such_a_sibling_refuses(stack, http):
    _, tokens = new_user(http, stack)
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(tokens["access_token"], stack.settings["JWT_SECRET_KEY"], algorithms=["HS256"])
    claims = jwt.decode(tokens["access_token"], stack.settings["JWT_SECRET_KEY"], algorithms=["HS256"],
                        audience="user-service", issuer="user-service")
    assert claims["aud"] == "user-service"
