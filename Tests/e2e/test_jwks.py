"""Tokens other services verify but cannot mint: EdDSA and ES256 access tokens, verified by a sibling service exactly
as it would (PyJWT's PyJWKClient, with cryptography, from the test tools' venv: sibling_jwt.py) from the key set that
GET /.well-known/jwks.json publishes, found through GET /.well-known/openid-configuration, at the root and under a
mount prefix; discovery built from Host never stored by a cache; forged tokens refused; key files that are not
what they should be refused at start with one line; a worker restarted after its key file was changed in place
refuses to start. The rotation procedures are in test_jwks_rotation.py."""
import hashlib
import hmac
import json
import os
import signal
import subprocess

import pytest

from auth_helpers import login, register
from conftest import BIN, wait_for
from docs_site import PREFIX, SITE
from jwks_helpers import b64, generate_key, header, key_set, me, payload, sibling, unb64

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


def hs256(head, claims, secret):
    signing_input = b64(json.dumps(head).encode()) + "." + b64(json.dumps(claims).encode())
    return signing_input + "." + b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())


def signed(algorithm, key_file, kid, claims):
    result = sibling("sign", algorithm, key_file, kid, json.dumps(claims))
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


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
        # Built from the Host the client sent: no cache may keep it for another client.
        assert discovery.headers["Cache-Control"] == "no-store" and "Host" in discovery.headers["Vary"]
        assert "ETag" not in discovery.headers
        poisoned = http.get(s.url(prefix + "/.well-known/openid-configuration"), headers={"Host": "evil.example"})
        assert poisoned.json()["jwks_uri"] == f"http://evil.example{prefix}/.well-known/jwks.json"
        assert poisoned.headers["Cache-Control"] == "no-store"
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


def start_alone(tmp_path, settings):
    """`serve` with these settings and an unreachable database: the lines it printed when it stopped."""
    env_file = tmp_path / "user-service.env"
    env_file.write_text("DATABASE_URL=postgresql://nobody@127.0.0.1:1/none\n" + "".join(f"{k}={v}\n" for k, v in settings.items()))
    result = subprocess.run([BIN, "serve", "--listen", f"unix:{tmp_path}/pool.sock", "--env-file", str(env_file)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert not os.path.exists(f"{tmp_path}/pool.sock")
    return (result.stdout + result.stderr).strip().splitlines()


@pytest.mark.parametrize("mode", [0o640, 0o604])
def test_a_private_key_readable_by_others_stops_the_service_at_start(tmp_path, mode):
    key, _ = generate_key(tmp_path, "loose.pem")
    os.chmod(key, mode)
    lines = start_alone(tmp_path, {"JWT_ALGORITHM": "EdDSA", "JWT_PRIVATE_KEY_FILE": key})
    assert len(lines) == 1 and "JWT_PRIVATE_KEY_FILE" in lines[0] and "chmod 600" in lines[0], lines
    assert key not in lines[0]


def test_key_files_that_are_not_small_regular_files_stop_the_service_at_start(tmp_path):
    """A device (/dev/zero never ends), a FIFO (an open or read would block), a symbolic link as the private key,
    and a private key where only public keys belong: each one line at start, none a hang or a crash."""
    key, _ = generate_key(tmp_path, "signing.pem")
    os.mkfifo(tmp_path / "fifo.pub")
    os.symlink(key, tmp_path / "link.pem")
    cases = {
        "/dev/zero": ({"JWT_PREVIOUS_PUBLIC_KEY_FILES": "/dev/zero"}, "does not name a regular file (/dev/zero)"),
        "a FIFO": ({"JWT_PREVIOUS_PUBLIC_KEY_FILES": str(tmp_path / "fifo.pub")}, "does not name a regular file"),
        "a link": ({"JWT_ALGORITHM": "EdDSA", "JWT_PRIVATE_KEY_FILE": str(tmp_path / "link.pem")}, "names a symbolic link"),
        "a private key": ({"JWT_PREVIOUS_PUBLIC_KEY_FILES": key}, "holds private key material"),
    }
    for name, (settings, problem) in cases.items():
        lines = start_alone(tmp_path, {"JWT_SECRET_KEY": "s" * 32} | settings)
        assert len(lines) == 1 and problem in lines[0], (name, lines)


def test_keys_generate_explains_that_the_kid_is_the_thumbprint(tmp_path):
    result = subprocess.run([BIN, "keys", "generate", "--kid", "2027-01", "--out", str(tmp_path / "k.pem")],
                            capture_output=True, text=True)
    assert result.returncode == 2 and not os.path.exists(tmp_path / "k.pem")
    (line,) = result.stderr.strip().splitlines()
    assert "--kid" in line and "RFC 7638 thumbprint" in line


def test_a_worker_restarted_after_its_key_file_changed_in_place_refuses_to_start(make_stack, http, tmp_path):
    """The master read the key at start; a worker restarted later must not sign with what the file holds now, or
    the pool would answer with two keys (tokens one worker issues refused by the other, two key sets)."""
    key, kid = generate_key(tmp_path, "signing.pem")
    other, other_kid = generate_key(tmp_path, "other.pem")
    s = make_stack(name="inplace", workers=2, env={"JWT_ALGORITHM": "EdDSA", "JWT_PRIVATE_KEY_FILE": key})
    user = register(http, s)
    with open(other, "rb") as f, open(key, "wb") as g:  # replaced in place: same path, same mode
        g.write(f.read())
    victim = s.worker_pids()[0]
    os.kill(victim, signal.SIGKILL)
    wait_for(lambda: "refusing to start" in s.pool_log(), message="the restarted worker's refusal")
    (refusal,) = {line for line in s.pool_log().splitlines() if "refusing to start" in line}
    assert f"JWT_PRIVATE_KEY_FILE now holds the key {other_kid}, not {kid}" in refusal and "never changed in place" in refusal
    assert key not in refusal
    # The pool still answers with one key: every token it issues verifies on every worker, one key set.
    tags = set()
    for _ in range(30):
        token = login(http, s, user["email"])["access_token"]
        assert header(token)["kid"] == kid and me(http, s, token) == 200
        tags.add(http.get(s.url("/.well-known/jwks.json")).headers["ETag"])
    assert len(tags) == 1 and victim not in s.worker_pids()
