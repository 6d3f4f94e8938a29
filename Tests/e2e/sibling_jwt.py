"""A sibling service's view of the access tokens, run with the test tools' PyJWT and cryptography (TEST_TOOLS_VENV):

  sibling_jwt.py verify DISCOVERY_URL TOKEN   finds jwks_uri in the OpenID configuration, gets the token's key from
                                              the key set with PyJWKClient and decodes it (audience and issuer as
                                              the service writes them); prints the claims as JSON, or exits 1 with
                                              PyJWT's error
  sibling_jwt.py sign ALG KEY_FILE KID CLAIMS_JSON   signs CLAIMS with a PEM private key under the given header
                                              (for forged tokens)
"""
import json
import sys
import urllib.request

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_private_key


def verify(discovery_url, token):
    with urllib.request.urlopen(discovery_url, timeout=10) as response:
        discovery = json.load(response)
    client = jwt.PyJWKClient(discovery["jwks_uri"])
    try:
        key = client.get_signing_key_from_jwt(token)
        claims = jwt.decode(token, key, algorithms=discovery["id_token_signing_alg_values_supported"],
                            audience="user-service", issuer=discovery["issuer"])
    except jwt.PyJWTError as error:
        print(f"{type(error).__name__}: {error}", file=sys.stderr)
        return 1
    print(json.dumps(claims))
    return 0


def sign(algorithm, key_file, kid, claims):
    with open(key_file, "rb") as f:
        key = load_pem_private_key(f.read(), password=None)
    print(jwt.encode(json.loads(claims), key, algorithm=algorithm, headers={"kid": kid, "typ": "JWT"}))
    return 0


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    sys.exit(verify(*args) if command == "verify" else sign(*args))
