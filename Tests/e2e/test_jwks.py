"""Tokens other services verify but cannot mint: EdDSA and ES256 access tokens, verified by a sibling service exactly
as it would (PyJWT's PyJWKClient, with cryptography, from the test tools' venv: sibling_jwt.py) from the key set that
GET /.well-known/jwks.json publishes, found through GET /.well-known/openid-configuration, at the root and under a
mount prefix; forged tokens refused; key files with loose permissions refused at start; and the rotation procedure
of docs/deploy.md, run step by step with real restarts, logs nobody out."""
import base64
import hashlib
import hmac
import json
import os
import subprocess

import pytest

from auth_helpers import bearer, login, register
from conftest import BIN, ROOT
from docs_site import PREFIX, SITE

VENV = os.environ.get("TEST_TOOLS_VENV") or os.path.join(ROOT, ".build", "test-tools")
SIBLING = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sibling_jwt.py")
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


def sibling(*args):
    return subprocess.run([os.path.join(VENV, "bin", "python"), SIBLING, *args], capture_output=True, text=True, timeout=60)


def generate_key(folder, name, algorithm="EdDSA"):
    """`user-service keys generate`: the private key's path and the kid it prints."""
    path = os.path.join(str(folder), name)
    out = subprocess.run([BIN, "keys", "generate", "--out", path, "--algorithm", algorithm], capture_output=True,
                         text=True, check=True).stdout
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    return path, out.split()[1]


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def header(token):
    return json.loads(unb64(token.split(".")[0]))


def payload(token):
    return json.loads(unb64(token.split(".")[1]))


def hs256(head, claims, secret):
    signing_input = b64(json.dumps(head).encode()) + "." + b64(json.dumps(claims).encode())
    return signing_input + "." + b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())


def signed(algorithm, key_file, kid, claims):
    result = sibling("sign", algorithm, key_file, kid, json.dumps(claims))
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def me(http, stack, token, prefix=""):
    return http.get(stack.url(prefix + "/api/v1/auth/me"), headers={"Authorization": f"Bearer {token}"}).status_code


def key_set(http, stack, prefix=""):
    return http.get(stack.url(prefix + "/.well-known/jwks.json")).json()["keys"]


@pytest.mark.parametrize("algorithm", ["EdDSA", "ES256"])
def test_a_sibling_verifies_the_tokens_from_the_key_set_at_the_root_and_under_a_prefix(make_stack, http, tmp_path, algorithm):
    key, kid = generate_key(tmp_path, "signing.pem", algorithm)
    # No HS256 secret at all: the service signs with the key pair alone.
    s = make_stack(name="jwks", site=SITE, workers=1,
                   env={"JWT_ALGORITHM": algorithm, "JWT_PRIVATE_KEY_FILE": key, "JWT_SECRET_KEY": ""})
    user = register(http, s)
    tokens = login(http, s, user["email"])
    assert header(tokens["access_token"]) == {"alg": algorithm, "typ": "JWT", "kid": kid}
    for prefix in ["", PREFIX]:
        discovery = http.get(s.url(prefix + "/.well-known/openid-configuration"))
        assert discovery.status_code == 200, discovery.text
        assert discovery.json() == {"issuer": "user-service", "jwks_uri": s.url(prefix + "/.well-known/jwks.json"),
                                    "id_token_signing_alg_values_supported": [algorithm]}
        verified = sibling("verify", s.url(prefix + "/.well-known/openid-configuration"), tokens["access_token"])
        assert verified.returncode == 0, verified.stderr
        assert json.loads(verified.stdout)["sub"] == user["id"]
        assert me(http, s, tokens["access_token"], prefix) == 200

        response = http.get(s.url(prefix + "/.well-known/jwks.json"))
        assert response.status_code == 200 and response.headers["Content-Type"] == "application/json"
        assert response.headers["Cache-Control"] == "public, max-age=300"
        (published,) = response.json()["keys"]
        assert published["kid"] == kid and published["alg"] == algorithm and published["use"] == "sig"
        assert not PRIVATE_MEMBERS & set(published), published
        assert set(published) == ({"kty", "crv", "x", "kid", "alg", "use"} | ({"y"} if algorithm == "ES256" else set()))
        # Revalidation: the same ETag gets a 304 without a body; another one gets the set again.
        tag = response.headers["ETag"]
        again = http.get(s.url(prefix + "/.well-known/jwks.json"), headers={"If-None-Match": tag})
        assert again.status_code == 304 and again.content == b"" and again.headers["ETag"] == tag
        assert http.get(s.url(prefix + "/.well-known/jwks.json"), headers={"If-None-Match": '"x"'}).status_code == 200


def test_forged_and_confused_tokens_are_refused(make_stack, http, tmp_path):
    key, kid = generate_key(tmp_path, "ed.pem")
    es_key, es_kid = generate_key(tmp_path, "es.pem", "ES256")
    stranger, stranger_kid = generate_key(tmp_path, "stranger.pem")
    s = make_stack(name="forged", workers=1, env={"JWT_ALGORITHM": "EdDSA", "JWT_PRIVATE_KEY_FILE": key,
                                                   "JWT_PREVIOUS_PUBLIC_KEY_FILES": es_key + ".pub"})
    user = register(http, s)
    tokens = login(http, s, user["email"])
    claims = payload(tokens["access_token"])  # a live session's claims: only the signature and the header differ
    # The forging works: a real signature by a listed key under its own kid and algorithm is accepted.
    assert me(http, s, signed("ES256", es_key, es_kid, claims)) == 200
    with open(key + ".pub", "rb") as f:
        public_pem = f.read()
    (ed_jwk,) = [k for k in key_set(http, s) if k["kid"] == kid]
    none_header = b64(json.dumps({"alg": "none", "typ": "JWT", "kid": kid}).encode())
    refused = {
        "HS256 keyed with the public key's PEM": hs256({"alg": "HS256", "typ": "JWT", "kid": kid}, claims, public_pem),
        "HS256 keyed with the public key's bytes": hs256({"alg": "HS256", "typ": "JWT", "kid": kid}, claims, unb64(ed_jwk["x"])),
        "HS256 under the secret's kid keyed with the public key": hs256({"alg": "HS256", "typ": "JWT", "kid": "1"}, claims, public_pem),
        "alg none": none_header + "." + b64(json.dumps(claims).encode()) + ".",
        "ES256 under the EdDSA key's kid": signed("ES256", es_key, kid, claims),
        "EdDSA under the ES256 key's kid": signed("EdDSA", key, es_kid, claims),
        "a key that is not listed, under its own kid": signed("EdDSA", stranger, stranger_kid, claims),
        "a key that is not listed, under the signing key's kid": signed("EdDSA", stranger, kid, claims),
    }
    for name, token in refused.items():
        assert me(http, s, token) == 401, name
    assert sibling("verify", s.url("/.well-known/openid-configuration"), refused["a key that is not listed, under its own kid"]).returncode == 1
    assert me(http, s, tokens["access_token"]) == 200


@pytest.mark.parametrize("mode", [0o640, 0o604])
def test_a_private_key_readable_by_others_stops_the_service_at_start(tmp_path, mode):
    key, _ = generate_key(tmp_path, "loose.pem")
    os.chmod(key, mode)
    env_file = tmp_path / "user-service.env"
    env_file.write_text(f"DATABASE_URL=postgresql://nobody@127.0.0.1:1/none\nJWT_ALGORITHM=EdDSA\nJWT_PRIVATE_KEY_FILE={key}\n")
    result = subprocess.run([BIN, "serve", "--listen", f"unix:{tmp_path}/pool.sock", "--env-file", str(env_file)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert len(lines) == 1 and "JWT_PRIVATE_KEY_FILE" in lines[0] and "chmod 600" in lines[0], lines
    assert key not in lines[0]
    assert not os.path.exists(f"{tmp_path}/pool.sock")


def test_the_rotation_procedure_logs_nobody_out(make_stack, http, tmp_path):
    """docs/deploy.md, "Rotating the signing key": HS256 → EdDSA, then one EdDSA key → the next. Before each step a
    user holds an access token and a refresh token; after the step (a real restart) both still work."""
    s = make_stack(name="rotation", workers=1)
    user = register(http, s)
    tokens = login(http, s, user["email"])

    def step(**changes):
        s.stop_pool()
        for name, value in changes.items():
            if value is None:
                s.settings.pop(name, None)
            else:
                s.settings[name] = value
        s.write_env(s.settings)
        s.start_pool()

    def still_logged_in(held):
        assert me(http, s, held["access_token"]) == 200
        refreshed = http.post(s.url("/api/v1/auth/refresh"), json={"refresh_token": held["refresh_token"]})
        assert refreshed.status_code == 200, refreshed.text
        return refreshed.json()

    assert header(tokens["access_token"])["alg"] == "HS256"
    k1, kid1 = generate_key(tmp_path, "jwt-1.pem")

    # 1. Publish the new public key (verifiers that cache the key set learn it before it signs anything).
    step(JWT_PREVIOUS_PUBLIC_KEY_FILES=k1 + ".pub")
    tokens = still_logged_in(tokens)
    assert header(tokens["access_token"])["alg"] == "HS256"
    assert [k["kid"] for k in key_set(http, s)] == [kid1]

    # 2. Sign with it; the HS256 secret stays, so tokens it signed keep verifying until they expire.
    hs256_token = tokens["access_token"]
    step(JWT_ALGORITHM="EdDSA", JWT_PRIVATE_KEY_FILE=k1, JWT_PREVIOUS_PUBLIC_KEY_FILES=None)
    tokens = still_logged_in(tokens)
    assert header(tokens["access_token"]) == {"alg": "EdDSA", "typ": "JWT", "kid": kid1}

    # 3. Once ACCESS_TOKEN_EXPIRE_MINUTES have passed, drop the secret: HS256 tokens no longer verify (by then
    #    they have all expired; here one that has not shows the secret is really gone).
    step(JWT_SECRET_KEY=None)
    tokens = still_logged_in(tokens)
    assert me(http, s, hs256_token) == 401

    # 4. The next key: it signs, the previous one's public key still verifies.
    k2, kid2 = generate_key(tmp_path, "jwt-2.pem")
    k1_token = tokens["access_token"]
    step(JWT_PRIVATE_KEY_FILE=k2, JWT_PREVIOUS_PUBLIC_KEY_FILES=k1 + ".pub")
    tokens = still_logged_in(tokens)
    assert header(tokens["access_token"])["kid"] == kid2
    assert [k["kid"] for k in key_set(http, s)] == [kid2, kid1]

    # 5. After the token lifetime, drop the previous key: its tokens are refused, by the service and by a sibling.
    step(JWT_PREVIOUS_PUBLIC_KEY_FILES=None)
    still_logged_in(tokens)
    assert me(http, s, k1_token) == 401
    assert [k["kid"] for k in key_set(http, s)] == [kid2]
    refused = sibling("verify", s.url("/.well-known/openid-configuration"), k1_token)
    assert refused.returncode == 1 and "PyJWKClientError" in refused.stderr, refused.stderr
