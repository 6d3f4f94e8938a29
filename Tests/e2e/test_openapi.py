"""GET /openapi.json against independent tools: openapi-spec-validator checks the document (OpenAPI 3.1) at the root
and under a mount, requests check that it names what the pool routes and protects, and Schemathesis fuzzes the
running stack from it (positive and negative cases) and must find no server error and nothing the document does
not say.

The tools are PyPI packages pinned in tools-requirements.txt, in the virtualenv `scripts/install-deps --test` makes
(TEST_TOOLS_VENV). They run as subprocesses (their command-line interfaces, their exit status): the suite itself
keeps Debian's python3 and its packages, and the tools' own dependencies (their pytest, requests, ...) never meet it.
"""
import json
import os
import re
import subprocess
import uuid

import pytest

from conftest import ROOT, Stack
from auth_helpers import register
from docs_site import PREFIX as MOUNT, SITE as MOUNTED_SITE

VENV = os.environ.get("TEST_TOOLS_VENV") or os.path.join(ROOT, ".build", "test-tools")
BEARER = [{"HTTPBearer": []}]
# Schemathesis: every check the document can be held to (the headers one covers declared response headers).
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance," \
         "response_headers_conformance"
SCHEMATHESIS_TIMEOUT = 150  # seconds: the hard bound (a run takes about 10 s here)
ACCOUNT_PASSWORD = "FuzzedAccount2468"


def tool(name):
    path = os.path.join(VENV, "bin", name)
    assert os.access(path, os.X_OK), f"{path} is missing: run `scripts/install-deps --test` (make test does)"
    return path


@pytest.fixture(scope="module")
def mounted():
    s = Stack("openapi-mount", site=MOUNTED_SITE, workers=1)
    yield s
    s.stop()


def operations(document):
    return {(method.upper(), path): operation for path, item in document["paths"].items()
            for method, operation in item.items()}


def fetch_document(http, url):
    response = http.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/json"
    return response.json()


def test_the_document_is_valid_openapi_3_1_at_the_root_and_under_a_mount(stack, mounted, http, tmp_path):
    root = fetch_document(http, stack.url("/openapi.json"))
    below = fetch_document(http, mounted.url(MOUNT + "/openapi.json"))
    assert root["openapi"] == below["openapi"] == "3.1.0"
    assert root["servers"] == [{"url": "/"}]
    assert below["servers"] == [{"url": MOUNT}]
    # One pool, one document; only `servers` follows the mount (never cached across mounts).
    assert {**root, "servers": None} == {**below, "servers": None}
    files = []
    for name, document in (("root", root), ("mounted", below)):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(document))
        files.append(str(path))
    result = subprocess.run([tool("openapi-spec-validator"), "--schema", "3.1", "--validation-errors", "all"] + files,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(": OK") == 2, result.stdout


def test_the_document_names_every_route_the_pool_serves(mounted, http):
    """Each documented operation, requested through nginx, reaches the pool under its own route template (the
    request log's and /metrics' `route=` label, which comes from the router's table), and each documented path
    allows exactly the documented methods (the router's 405 `Allow`)."""
    document = fetch_document(http, mounted.url(MOUNT + "/openapi.json"))
    documented = operations(document)
    assert len(documented) >= 14
    for method, path in documented:
        concrete = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)
        answer = http.request(method, mounted.url(MOUNT + concrete))
        assert answer.status_code not in (404, 405), (method, path, answer.text)
        allowed = {m for m, p in documented if p == path}
        other = next(m for m in ("PUT", "PATCH", "DELETE", "POST", "GET") if m not in allowed)
        refused = http.request(other, mounted.url(MOUNT + concrete))
        assert refused.status_code == 405, (other, path, refused.status_code)
        assert set(refused.headers["Allow"].split(", ")) == allowed, (path, refused.headers["Allow"])
    metrics = http.get(mounted.url(MOUNT + "/metrics")).text
    routed = set(re.findall(r'^user_service_requests_total\{route="([^"]+)",method="([A-Z]+)"', metrics, re.M))
    # The document's own route is served but, as in FastAPI, not described.
    assert {(method, path) for path, method in routed if path not in ("unmatched", "/openapi.json")} == set(documented)


def test_protected_operations_and_only_they_carry_the_bearer_scheme(stack, http):
    document = fetch_document(http, stack.url("/openapi.json"))
    assert document["components"]["securitySchemes"] == {
        "HTTPBearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
    assert "security" not in document  # no document-wide default: each operation says
    protected = set()
    for (method, path), operation in operations(document).items():
        # What the pool does without a token decides, not the document.
        concrete = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)
        answer = http.request(method, stack.url(concrete))
        if answer.status_code == 401 and answer.json() == {"detail": "Not authenticated"}:
            assert answer.headers["WWW-Authenticate"] == "Bearer"
            protected.add((method, path))
            assert operation.get("security") == BEARER, (method, path)
            assert "401" in operation["responses"], (method, path)
        else:
            assert "security" not in operation, (method, path, answer.status_code)
    assert ("GET", "/api/v1/auth/me") in protected and ("POST", "/api/v1/auth/login") not in protected


def test_schemathesis_finds_nothing(make_stack, http, tmp_path):
    """Every operation, positive and negative cases (with the coverage, fuzzing and stateful phases), through nginx
    to the password and main workers. Protected operations get the token of an account of the run's own: Schemathesis
    logs in (by email: `PUT /api/v1/users/me` may change the username; its wrong passwords on change-password and on
    `DELETE /api/v1/users/me` count against the email, so the login throttle's limit is out of its reach here) and,
    when its own calls log that token out (logout, logout-all, a revoked session), logs in again and replays the
    request. nginx's limits are the suite's loose ones, so the run is not mostly 429s (which every operation
    documents)."""
    s = make_stack(name="schemathesis", workers=2, password_workers=1, env={"LOGIN_THROTTLE_LIMIT": "1000000"})
    username = "st_" + uuid.uuid4().hex[:10]
    # Not the password of the document's examples: the change-password example, sent as written, would change it.
    register(http, s, username=username, email=f"{username}@example.com", password=ACCOUNT_PASSWORD,
             confirm_password=ACCOUNT_PASSWORD)
    config = tmp_path / "schemathesis.toml"
    config.write_text("""
[auth]
auto-signup = false

[auth.dynamic.openapi.HTTPBearer]
path = "/api/v1/auth/login"
payload = { email = "${ST_LOGIN}", password = "${ST_PASSWORD}" }
extract_selector = "/access_token"
""")
    har = tmp_path / "schemathesis.har.json"
    command = [tool("st"), "--no-color", "--config-file", str(config), "run", s.url("/openapi.json"), "--url", s.url(""),
               "--mode", "all", "--phases", "examples,coverage,fuzzing,stateful", "--checks", CHECKS,
               "--max-examples", "40", "--seed", "20261205", "--workers", "1", "--request-timeout", "10",
               "--report", "har", "--report-har-path", str(har)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHEMATHESIS_")}
    env.update(ST_LOGIN=f"{username}@example.com", ST_PASSWORD=ACCOUNT_PASSWORD)
    # cwd: Hypothesis keeps its example database in the working folder.
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=SCHEMATHESIS_TIMEOUT)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    document = fetch_document(http, s.url("/openapi.json"))
    documented = operations(document)
    assert f"Operations:       {len(documented)} selected / {len(documented)} total" in output, output

    # It requested every operation, and protected ones with a valid token: each got past the token check (which runs
    # before the body is read) at least once.
    entries = json.loads(har.read_text())["log"]["entries"]
    requested, authenticated = set(), set()
    for (method, path), operation in documented.items():
        pattern = re.compile(re.escape(s.url("")) + "[^/?]+".join(map(re.escape, re.split(r"\{[^}]+\}", path))) + r"(\?|$)")
        statuses = [e["response"]["status"] for e in entries
                    if e["request"]["method"] == method and pattern.match(e["request"]["url"])]
        if statuses:
            requested.add((method, path))
        if "security" in operation and any(status not in (401, 429) for status in statuses):
            authenticated.add((method, path))
    assert requested == set(documented), sorted(set(documented) - requested)
    protected = {key for key, operation in documented.items() if "security" in operation}
    assert authenticated == protected, sorted(protected - authenticated)
