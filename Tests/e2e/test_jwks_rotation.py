"""docs/deploy.md's rotation procedures, each step applied as `systemctl reload` applies it.

A reload replaces the workers one at a time, so for a moment old and new configurations serve together, and a reload
that fails half-way leaves them so until the next: a token one configuration issues is checked by the other. Two
pools of two workers on one database stand for the two halves: at each step `new` reloads (SIGHUP) first, then
`old`, under concurrent logins and /me on both, each token used on the other pool too. No answer is a 401; the
tokens issued before each step still work after it (but for those of a key the step removes "once they have
expired"); and a sibling service configured as the guide says at that step verifies every token issued."""
import os
import random
import secrets
import signal
import threading

import requests

from auth_helpers import PASSWORD, login, register
from conftest import wait_for
from jwks_helpers import generate_key, header, me, sibling

NGINX = {"RATE_LIMIT_AUTH": "60000r/m", "RATE_LIMIT_AUTH_BURST": "10000"}


class Load:
    """Threads that log in on one pool and call /me with the new token on both, until stopped."""

    def __init__(self, pools, emails, threads=3):
        self.pools, self.emails = pools, emails
        self.lock = threading.Lock()
        self.issued = []  # (pool index, token) in order
        self.failures = []
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(threads)]

    def run(self):
        with requests.Session() as http:
            while not self.stopping.is_set():
                issuer = random.randrange(len(self.pools))
                answer = http.post(self.pools[issuer].url("/api/v1/auth/login"),
                                   json={"email": random.choice(self.emails), "password": PASSWORD}, timeout=30)
                if answer.status_code != 200:
                    with self.lock:
                        self.failures.append(("login", issuer, answer.status_code))
                    continue
                token = answer.json()["access_token"]
                statuses = [me(http, pool, token) for pool in self.pools[issuer + 1:] + self.pools[:issuer + 1]]
                with self.lock:
                    self.issued.append((issuer, token))
                    self.failures += [("me", issuer, status, header(token)) for status in statuses if status != 200]

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_):
        self.stopping.set()
        for thread in self.threads:
            thread.join()

    def since(self, count):
        with self.lock:
            return self.issued[count:]

    def wait_for_tokens(self, more=5):
        count = len(self.since(0))
        wait_for(lambda: len(self.since(0)) >= count + more, timeout=60, message="tokens issued under load")


def reload(pool, settings, load):
    """Writes the pool's env file with these changes (None removes a variable) and reloads it under load."""
    for name, value in settings.items():
        if value is None:
            pool.settings.pop(name, None)
        else:
            pool.settings[name] = value
    pool.write_env(pool.settings)
    done = pool.pool_log().count("reload complete")
    pool.signal_pool(signal.SIGHUP)
    wait_for(lambda: pool.pool_log().count("reload complete") > done or "reload refused" in pool.pool_log()
             or "reload failed" in pool.pool_log(), timeout=60, message="reload")
    assert pool.pool_log().count("reload complete") > done, pool.pool_log()[-2000:]
    load.wait_for_tokens()


def sibling_verifies(pools, issued, secrets_held, key_set):
    """A sibling holding these secrets (and reading the key set, or not) verifies every token, each through the
    discovery document of the pool that did not issue it."""
    lines = "".join(f"{pools[(issuer + 1) % len(pools)].url('/.well-known/openid-configuration')} {token}\n"
                    for issuer, token in issued)
    args = [arg for secret in secrets_held for arg in ("--secret", secret)] + ([] if key_set else ["--no-key-set"])
    result = sibling("verify-all", *args, stdin=lines)
    refused = [line for line in result.stdout.splitlines() if line != "ok"]
    assert result.returncode == 0 and not refused, (refused[:3], result.stderr[-2000:])


def test_each_rotation_step_is_safe_while_old_and_new_configurations_serve_together(make_stack, http, tmp_path):
    s1, s2, s3 = (secrets.token_hex(32) for _ in range(3))
    new = make_stack(name="rotate-new", workers=2, nginx_env=NGINX, env={"JWT_SECRET_KEY": s1})
    old = make_stack(name="rotate-old", workers=2, nginx_env=NGINX, env={"JWT_SECRET_KEY": s1}, database=new.database_url)
    pools = [new, old]
    emails = [register(http, new)["email"] for _ in range(4)]
    k1, kid1 = generate_key(tmp_path, "jwt-1.pem")
    k2, kid2 = generate_key(tmp_path, "jwt-2.pem", "ES256")

    # (what the guide says, the changes to the env file, the sibling's secrets and whether it reads the key set
    #  during the step, what new tokens carry afterwards (alg, kid), and the tokens the step stops verifying: those
    #  of a key removed "once ACCESS_TOKEN_EXPIRE_MINUTES have passed", which here have not)
    steps = [
        ("HS256 secret, 1: the new secret verifies", {"JWT_PREVIOUS_SECRET_KEYS": f"2:{s2}"}, [s1, s2], False, ("HS256", "1"), None),
        ("HS256 secret, 2: it signs", {"JWT_KEY_ID": "2", "JWT_SECRET_KEY": s2, "JWT_PREVIOUS_SECRET_KEYS": f"1:{s1}"},
         [s1, s2], False, ("HS256", "2"), None),
        ("HS256 secret, 3: the old one goes", {"JWT_PREVIOUS_SECRET_KEYS": None}, [s2], False, ("HS256", "2"), ("HS256", "1")),
        ("to EdDSA, 1: publish the key", {"JWT_PREVIOUS_PUBLIC_KEY_FILES": k1 + ".pub"}, [s2], True, ("HS256", "2"), None),
        ("to EdDSA, 2: it signs", {"JWT_ALGORITHM": "EdDSA", "JWT_PRIVATE_KEY_FILE": k1, "JWT_PREVIOUS_PUBLIC_KEY_FILES": None},
         [s2], True, ("EdDSA", kid1), None),
        ("to EdDSA, 3: the secret goes", {"JWT_SECRET_KEY": None, "JWT_KEY_ID": None}, [], True, ("EdDSA", kid1), ("HS256", "2")),
        ("next key, 1: publish it", {"JWT_PREVIOUS_PUBLIC_KEY_FILES": k2 + ".pub"}, [], True, ("EdDSA", kid1), None),
        ("next key, 2: it signs", {"JWT_ALGORITHM": "ES256", "JWT_PRIVATE_KEY_FILE": k2, "JWT_PREVIOUS_PUBLIC_KEY_FILES": k1 + ".pub"},
         [], True, ("ES256", kid2), None),
        ("next key, 3: the old one goes", {"JWT_PREVIOUS_PUBLIC_KEY_FILES": None}, [], True, ("ES256", kid2), ("EdDSA", kid1)),
        ("back to HS256, 1: a secret verifies", {"JWT_SECRET_KEY": s3}, [s3], True, ("ES256", kid2), None),
        ("back to HS256, 2: it signs", {"JWT_ALGORITHM": "HS256", "JWT_PRIVATE_KEY_FILE": None, "JWT_PREVIOUS_PUBLIC_KEY_FILES": k2 + ".pub"},
         [s3], True, ("HS256", "1"), None),
        ("back to HS256, 3: the key goes", {"JWT_PREVIOUS_PUBLIC_KEY_FILES": None}, [s3], False, ("HS256", "1"), ("ES256", kid2)),
    ]
    held = {}  # one token per key that signed, issued before the steps that follow
    with Load(pools, emails) as load:
        load.wait_for_tokens()
        start = 0
        for name, changes, secrets_held, key_set, signs, removed in steps:
            for _, token in load.since(start):
                held[(header(token)["alg"], header(token)["kid"])] = token
            start = len(load.since(0))
            reload(new, changes, load)
            # Half-way: the pools serve on different configurations, as a pool's workers do during a reload.
            middle = len(load.since(0))
            sibling_verifies(pools, load.since(start), secrets_held, key_set)
            reload(old, changes, load)
            sibling_verifies(pools, load.since(middle), secrets_held, key_set)
            assert not load.failures, (name, load.failures[:5])
            for pool in pools:
                token = login(http, pool, emails[0])["access_token"]
                assert (header(token)["alg"], header(token)["kid"]) == signs, name
            for key, token in list(held.items()):
                for pool in pools:
                    assert me(http, pool, token) == (401 if key == removed else 200), (name, key)
            if removed:
                del held[removed]
    assert not load.failures, load.failures[:5]
    assert len(load.issued) > len(steps) * 10
