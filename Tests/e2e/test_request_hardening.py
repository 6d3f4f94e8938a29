"""What a hostile request can cost and reach: JSON objects parsed in linear time with bounded members, bodies read
as JSON only with a JSON media type (as FastAPI does), and header values that never carry control characters."""
import statistics
import time

import requests

COMBINING_MARKS = [chr(c) for c in range(0x300, 0x315)]  # 21 marks: 9,261 keys of three marks each


def object_body(keys):
    return ("{" + ",".join(f'"{key}":1' for key in keys) + "}").encode()


def timed_post(stack, path, body):
    start = time.perf_counter()
    response = requests.post(stack.url(path), data=body, headers={"Content-Type": "application/json"})
    return time.perf_counter() - start, response


def test_keys_differing_only_in_combining_marks_cost_what_any_body_costs(stack):
    # About 5,000 distinct keys that differ only in combining marks (60 KB), against a body of as many plain keys
    # of the same size. Comparing keys as Swift strings normalised each pair: seconds of CPU for the first body.
    marks = [a + b + c for a in COMBINING_MARKS for b in COMBINING_MARKS for c in COMBINING_MARKS]
    hostile = object_body("a" + m for m in marks[:5000])
    plain = object_body(f"k{i:05d}" for i in range(5000))
    assert 50_000 < len(hostile) < 65_536 and 50_000 < len(plain) < 65_536
    hostile_times, plain_times = [], []
    for _ in range(5):  # interleaved, so load on the machine falls on both alike
        for body, times in ((hostile, hostile_times), (plain, plain_times)):
            elapsed, response = timed_post(stack, "/api/v1/auth/refresh", body)
            assert response.status_code == 422
            assert response.json()["detail"][0]["loc"] == ["body", "refresh_token"]
            times.append(elapsed)
    ratio = statistics.median(hostile_times) / statistics.median(plain_times)
    assert ratio < 4, f"hostile body {statistics.median(hostile_times):.4f}s vs plain {statistics.median(plain_times):.4f}s"


def post_json(stack, body):
    return requests.post(stack.url("/api/v1/auth/refresh"), data=body, headers={"Content-Type": "application/json"})


def test_too_many_members_is_a_422_naming_where(stack, make_stack):
    too_long = {"type": "too_long", "msg": "Value should have at most 10000 items", "ctx": {"max_length": 10000}}
    response = post_json(stack, b'{"refresh_token": "x", "list": [' + b",".join([b"0"] * 10_001) + b"]}")
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == [dict(too_long, loc=["body", "list"])]
    # At the limit, the body is read and its fields checked as usual.
    assert post_json(stack, b'{"refresh_token": "x", "list": [' + b",".join([b"0"] * 10_000) + b"]}").status_code == 401
    # Objects too, and the limit is the setting's (10,001 keys would not fit in the default body size).
    small = make_stack(name="members", workers=1, env={"MAX_JSON_MEMBERS": "100"})
    response = post_json(small, object_body(f"k{i}" for i in range(101)))
    assert response.status_code == 422
    assert response.json()["detail"] == [dict(too_long, loc=["body"], msg="Value should have at most 100 items",
                                              ctx={"max_length": 100})]
    assert post_json(small, object_body(f"k{i}" for i in range(100))).status_code == 422  # fields checked: missing


def test_only_json_media_types_are_read_as_json(stack):
    body = b'{"email": "nobody@example.com", "password": "SecurePass123"}'
    refused = {"type": "model_attributes_type", "loc": ["body"],
               "msg": "Input should be a valid dictionary or object to extract fields from"}
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "text/plain; charset=utf-8"):
        response = requests.post(stack.url("/api/v1/auth/login"), data=body, headers={"Content-Type": content_type})
        assert response.status_code == 422, content_type
        assert response.json() == {"detail": [refused]}
    for content_type in ("application/json", "application/json; charset=utf-8", "application/vnd.example+json", None):
        headers = {"Content-Type": content_type} if content_type else {}
        response = requests.post(stack.url("/api/v1/auth/login"), data=body, headers=headers)
        assert response.status_code == 401, f"{content_type}: {response.text}"  # read, checked: a wrong login


def test_a_decoded_path_never_reaches_a_header_raw(stack):
    response = requests.delete(stack.url("/api/v1/auth/sessions/a%0Db/"), allow_redirects=False)
    assert response.status_code == 307
    assert response.headers["Location"] == "/api/v1/auth/sessions/a%0Db"
    response = requests.delete(stack.url("/api/v1/auth/sessions/a%0D%0ASet-Cookie:%20x=1/"), allow_redirects=False)
    assert response.status_code != 502 and "Set-Cookie" not in response.headers
