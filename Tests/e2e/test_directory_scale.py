"""The directory at scale (issue 14, item 4): 100,000 generated users loaded with COPY (scripts/generate-population,
one shared bcrypt hash) into a Stack's database, then, with EXPLAIN (never a timing), every query shape a search can
take is served by the directory's indexes — no sequential scan of users, profiles, preferences or the directory —
and `total` is counted over at most DirectoryRepository.cap (1,000) matches, never over every match."""
import os
import re
import subprocess

import pytest

from auth_helpers import bearer, new_user
from conftest import ROOT, psql

COUNT = 100_000
CAP = 1000
TABLES = ("users", "user_profiles", "user_preferences", "directory_entries")

# Each shape a search can take (which filters are sent), with values that match many users in the generated data.
SHAPES = {
    "all": "",
    "q": "q=engineer",
    "location": "location=berlin",
    "skills": "skills=python",
    "remote": "remote=remote",
    "min_experience": "min_experience=10",
    "q+location": "q=backend&location=berlin",
    "q+skills": "q=senior&skills=rust",
    "q+location+skills+remote+min_experience": "q=engineer&location=paris&skills=go&remote=hybrid&min_experience=5",
    "skills+remote+min_experience": "skills=docker&skills=aws&remote=onsite&min_experience=3",
    "location+min_experience": "location=new%20york&min_experience=20",
}


@pytest.fixture(scope="module")
def populated(request):
    from conftest import Stack
    stack = Stack("directory-scale", env={"DIRECTORY_MAX_PER_MINUTE": "100000"})
    request.addfinalizer(stack.stop)
    result = subprocess.run([os.path.join(ROOT, "scripts", "generate-population"), str(COUNT), "--database-url",
                             stack.database_url, "--batch", str(COUNT)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return stack


def plan(http, stack, query):
    response = http.get(stack.url("/db/directory/plans") + ("?" + query if query else ""))
    assert response.status_code == 200, response.text
    return response.json()


def test_the_population_is_loaded_with_its_directory(populated):
    counts = psql("SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM user_profiles), "
                  "(SELECT count(*) FROM directory_entries), (SELECT count(*) FROM directory_listing)",
                  url=populated.database_url).split("|")
    assert int(counts[0]) == COUNT and int(counts[1]) == COUNT
    # The bulk load's own entries equal what the triggers would have written: exactly the listed users.
    assert counts[2] == counts[3] and COUNT * 0.5 < int(counts[2]) < COUNT * 0.8


@pytest.mark.parametrize("shape", list(SHAPES))
def test_every_query_shape_uses_the_directory_indexes(populated, http, shape):
    answer = plan(http, populated, SHAPES[shape])
    assert answer["shape"] == shape
    text = "\n".join(answer["plan"])
    for table in TABLES:
        assert not re.search(rf"Seq Scan on {table}\b", text), f"{shape}: a sequential scan of {table}\n{text}"
    assert "directory_entries_" in text, f"{shape}: no directory index\n{text}"
    # Words alone go through the full-text index; with other filters the planner may start from the most selective
    # index and check the words on those rows.
    if shape in ("q", "location", "q+location"):
        assert "directory_entries_document" in text, text
    # The page's rows are joined by primary key.
    assert "users_pkey" in text and "user_profiles_pkey" in text, text
    # total is counted over the CTE of matches, which stops at the cap: never a count of every match.
    lines = answer["plan"]
    cte = next(i for i, line in enumerate(lines) if line.strip() == "CTE matches")
    assert lines[cte + 1].strip().startswith(f"->  Limit"), f"{shape}: the matches are not capped\n{text}"
    count = next(i for i, line in enumerate(lines) if line.strip().startswith("->  Aggregate"))
    assert lines[count + 1].strip().startswith("->  CTE Scan on matches"), f"{shape}: total is not counted over the matches\n{text}"


def test_total_is_exact_under_the_cap_and_the_cap_beyond(populated, http):
    _, tokens = new_user(http, populated)
    user = http.get(populated.url("/api/v1/users/me"), headers=bearer(tokens)).json()
    psql(f"UPDATE users SET premium_plan = 'yearly', premium_expires_at = now() + interval '1 year' WHERE id = '{user['id']}'",
         url=populated.database_url)
    many = http.get(populated.url("/api/v1/users/search"), params={"q": "engineer", "limit": 5}, headers=bearer(tokens))
    assert many.status_code == 200, many.text
    assert many.json()["total"] == CAP and len(many.json()["items"]) == 5
    # One user by username: found among the few whose words start with the same ones ("..._12" also finds "..._123"),
    # and counted exactly.
    name = psql("SELECT u.username FROM directory_entries d JOIN users u ON u.id = d.user_id ORDER BY d.user_id LIMIT 1",
                url=populated.database_url)
    one = http.get(populated.url("/api/v1/users/search"), params={"q": name, "limit": 100}, headers=bearer(tokens)).json()
    expected = int(psql(f"SELECT count(*) FROM directory_entries WHERE document @@ directory_tsquery('{name}', '')",
                        url=populated.database_url))
    assert one["total"] == expected < 100 and name in [item["username"] for item in one["items"]]
    # Exact below the cap: a filter combination matching a few hundred users.
    query = {"location": "berlin", "skills": "python", "min_experience": 20}
    expected = int(psql("SELECT count(*) FROM directory_entries WHERE document @@ directory_tsquery('berlin', 'D') "
                        "AND skills @> '{python}' AND years_of_experience >= 20", url=populated.database_url))
    assert 0 < expected < CAP
    assert http.get(populated.url("/api/v1/users/search"), params=query, headers=bearer(tokens)).json()["total"] == expected
