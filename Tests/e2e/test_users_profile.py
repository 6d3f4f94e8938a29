"""The extended profile and the job-matching preferences end to end through nginx: a PUT and a GET with a real
client, answered `Cache-Control: no-store`. Validation, partial updates, bounds and the SQL are tested at the
`Application` level against the real PostgreSQL, in Tests/UserServiceTests/ProfileTests.swift and
PreferencesTests.swift."""
from auth_helpers import bearer, new_user


def round_trip(http, stack, path, body):
    _, tokens = new_user(http, stack)
    before = http.get(stack.url(path), headers=bearer(tokens))
    assert before.status_code == 200, before.text
    assert before.json()["created_at"] is None and "no-store" in before.headers["Cache-Control"]
    saved = http.put(stack.url(path), json=body, headers=bearer(tokens))
    assert saved.status_code == 200, saved.text
    assert "no-store" in saved.headers["Cache-Control"]
    assert {key: saved.json()[key] for key in body} == body
    after = http.get(stack.url(path), headers=bearer(tokens))
    assert after.status_code == 200 and after.json() == saved.json()
    assert "no-store" in after.headers["Cache-Control"]
    return tokens


def test_profile_put_then_get(stack, http):
    tokens = round_trip(http, stack, "/api/v1/users/me/profile", {
        "headline": "Senior backend engineer", "skills": ["Swift", "PostgreSQL"], "years_of_experience": 10,
        "work_history": [{"organisation": "Example Corp", "title": "Engineer", "start_date": "2014-09-01",
                          "end_date": None, "description": "APIs."}],
        "github_url": "https://github.com/example", "phone": "+14155550123", "visibility": "public"})
    refused = http.put(stack.url("/api/v1/users/me/profile"), json={"website": "javascript:alert(1)"}, headers=bearer(tokens))
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", "website"]
    assert "no-store" in refused.headers["Cache-Control"]


def test_preferences_put_then_get(stack, http):
    tokens = round_trip(http, stack, "/api/v1/users/me/preferences", {
        "desired_titles": ["Backend Engineer"], "remote_preference": "hybrid", "employment_types": ["full_time"],
        "salary_min": 70000, "salary_max": 90000, "salary_currency": "EUR", "salary_period": "year",
        "company_sizes": ["51-200"], "available_from": "2027-01-01", "job_alerts": True, "alert_frequency": "weekly"})
    # Against the stored maximum: the database's check, answered as FastAPI's 422.
    refused = http.put(stack.url("/api/v1/users/me/preferences"), json={"salary_min": 95000}, headers=bearer(tokens))
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", "salary_max"]
