"""A sibling service's view of the access tokens, run with the test tools' PyJWT and cryptography (TEST_TOOLS_VENV):

  sibling_jwt.py verify DISCOVERY_URL TOKEN   finds jwks_uri in the OpenID configuration, gets the token's key from
                                              the key set with PyJWKClient and decodes it (audience and issuer as
                                              the service writes them); prints the claims as JSON, or exits 1 with
                                              PyJWT's error
  sibling_jwt.py verify-all [--secret SECRET]... [--no-key-set]
                                              the same for each "DISCOVERY_URL TOKEN" line of stdin, as a sibling
                                              configured as docs/deploy.md's rotation procedures say: HS256 tokens
                                              with its secrets (any of them), the others from the key set (unless
                                              --no-key-set: a sibling that has only secrets); one line per token
                                              ("ok" or the error), exit 1 when any is refused
  sibling_jwt.py sign ALG KEY_FILE KID CLAIMS_JSON   signs CLAIMS with a PEM private key under the given header
                                              (for forged tokens), an ES256 signature in its low-S form as the
                                              service writes and requires it
"""
import base64
import json
import sys
import urllib.request

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_private_key


class Sibling:
    def __init__(self, secrets=(), key_set=True):
        self.secrets = list(secrets)
        self.key_set = key_set
        self.discoveries = {}
        self.clients = {}

    def discovery(self, url):
        if url not in self.discoveries:
            with urllib.request.urlopen(url, timeout=10) as response:
                self.discoveries[url] = json.load(response)
        return self.discoveries[url]

    def decode(self, discovery_url, token):
        """The token's claims; raises PyJWTError when this sibling refuses it."""
        discovery = self.discovery(discovery_url)
        checks = {"audience": "user-service", "issuer": discovery["issuer"]}
        if jwt.get_unverified_header(token).get("alg") == "HS256":
            for secret in self.secrets:
                try:
                    return jwt.decode(token, secret, algorithms=["HS256"], **checks)
                except jwt.InvalidSignatureError:
                    continue
            raise jwt.InvalidSignatureError(f"no secret of this sibling ({len(self.secrets)}) verifies the token")
        if not self.key_set:
            raise jwt.InvalidAlgorithmError("this sibling verifies HS256 only")
        client = self.clients.setdefault(discovery["jwks_uri"], jwt.PyJWKClient(discovery["jwks_uri"]))
        key = client.get_signing_key_from_jwt(token)
        return jwt.decode(token, key, algorithms=discovery["id_token_signing_alg_values_supported"], **checks)


def verify(discovery_url, token):
    try:
        claims = Sibling().decode(discovery_url, token)
    except jwt.PyJWTError as error:
        print(f"{type(error).__name__}: {error}", file=sys.stderr)
        return 1
    print(json.dumps(claims))
    return 0


def verify_all(args):
    secrets = [value for name, value in zip(args, args[1:]) if name == "--secret"]
    sibling = Sibling(secrets, key_set="--no-key-set" not in args)
    failed = 0
    for line in sys.stdin:
        discovery_url, token = line.split()
        try:
            sibling.decode(discovery_url, token)
            print("ok")
        except jwt.PyJWTError as error:
            failed += 1
            print(f"{type(error).__name__}: {error} ({jwt.get_unverified_header(token)})")
    return 1 if failed else 0


P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def sign(algorithm, key_file, kid, claims):
    with open(key_file, "rb") as f:
        key = load_pem_private_key(f.read(), password=None)
    token = jwt.encode(json.loads(claims), key, algorithm=algorithm, headers={"kid": kid, "typ": "JWT"})
    if algorithm == "ES256":  # (r, n - s) when s is high: the same signature, in the one form the service accepts
        signing_input, signature = token.rsplit(".", 1)
        raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
        s = int.from_bytes(raw[32:], "big")
        if s > P256_ORDER // 2:
            raw = raw[:32] + (P256_ORDER - s).to_bytes(32, "big")
        token = signing_input + "." + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    print(token)
    return 0


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    if command == "verify":
        sys.exit(verify(*args))
    sys.exit(verify_all(args) if command == "verify-all" else sign(*args))
