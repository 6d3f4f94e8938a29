"""Helpers for the key-pair tests: key files from `user-service keys generate`, tokens' headers and claims, and a
sibling service (sibling_jwt.py, run with the test tools' PyJWT and cryptography)."""
import base64
import json
import os
import subprocess

from conftest import BIN, ROOT

VENV = os.environ.get("TEST_TOOLS_VENV") or os.path.join(ROOT, ".build", "test-tools")
SIBLING = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sibling_jwt.py")


def sibling(*args, stdin=None):
    return subprocess.run([os.path.join(VENV, "bin", "python"), SIBLING, *args], capture_output=True, text=True,
                          timeout=120, input=stdin)


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


def me(http, stack, token, prefix=""):
    return http.get(stack.url(prefix + "/api/v1/auth/me"), headers={"Authorization": f"Bearer {token}"}).status_code


def key_set(http, stack, prefix=""):
    return http.get(stack.url(prefix + "/.well-known/jwks.json")).json()["keys"]
