"""/openapi.json, /docs, /redoc and their assets through the real nginx: media types, cache lifetimes, the security
headers of both nginx and the pages, URLs under a mount prefix, DOCS_ENABLED=false. The browser test is in
test_docs_browser.py."""
import os
import re
import signal

import pytest

from conftest import ROOT, Stack, wait_for
from docs_site import PREFIX, SITE

ASSET_TYPES = {".js": "application/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


@pytest.fixture(scope="module")
def mounted(request):
    s = Stack("docs", site=SITE, workers=1)
    request.addfinalizer(s.stop)
    return s


def links(html):
    return re.findall(r'(?:src|href|spec-url|data-openapi-url)="([^"]+)"', html)


@pytest.mark.parametrize("prefix", ["", PREFIX])
@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_pages_and_assets_under_the_root_and_a_prefix(mounted, http, prefix, page):
    response = http.get(mounted.url(prefix + page))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    # Two policies (requests joins the headers with ", "): nginx's, and the page's own, which allows scripts
    # from 'self' only. The page holds no inline script.
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self';" in policy and "'unsafe-eval'" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "<script>" not in response.text
    urls = links(response.text)
    assert prefix + "/openapi.json" in urls
    assets = [u for u in urls if "/assets/" in u]
    assert assets and all(u.startswith(prefix + "/docs/assets/") for u in assets), urls
    for url in assets:
        asset = http.get(mounted.url(url))
        assert asset.status_code == 200, url
        assert asset.headers["Content-Type"] == ASSET_TYPES[os.path.splitext(url)[1]]
        assert asset.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert asset.content == open(os.path.join(ROOT, "docs/ui", url.rsplit("/", 1)[1]), "rb").read()
    document = http.get(mounted.url(prefix + "/openapi.json"))
    assert document.status_code == 200 and document.headers["Content-Type"] == "application/json"
    assert document.json()["servers"] == [{"url": prefix or "/"}]


def test_assets_of_another_version_and_other_files_are_not_served(mounted, http):
    html = http.get(mounted.url("/docs")).text
    current = next(u for u in links(html) if u.endswith("/swagger-ui-bundle.js"))
    for path in (re.sub(r"/assets/[0-9a-f]+/", "/assets/0123456789abcdef/", current),
                 current.rsplit("/", 1)[0] + "/README.md", current.rsplit("/", 1)[0] + "/..%2F..%2FLICENSE"):
        response = http.get(mounted.url(path))
        assert response.status_code == 404 and response.json() == {"detail": "Not Found"}, path


def test_disabled_docs_answer_404(make_stack, http):
    s = make_stack(name="nodocs", env={"DOCS_ENABLED": "false", "DOCS_DIR": "/nonexistent"}, workers=1)
    for path in ("/docs", "/redoc", "/openapi.json", "/docs/assets/0123456789abcdef/swagger-ui-bundle.js"):
        response = http.get(s.url(path))
        assert response.status_code == 404 and response.json() == {"detail": "Not Found"}, path
    assert http.get(s.url("/health")).status_code == 200


def test_missing_assets_are_refused_at_start_and_on_reload_with_one_line_naming_the_setting(http):
    s = Stack("badocs", workers=1, start_nginx=False)
    try:
        # On reload: the running workers stay.
        before = s.worker_pids()
        s.write_env(dict(s.settings, DOCS_DIR="/nonexistent-docs"))
        s.signal_pool(signal.SIGHUP)
        wait_for(lambda: "reload refused" in s.pool_log(), message="the reload refused")
        assert "configuration error: DOCS_DIR has no readable swagger-ui-bundle.js" in s.pool_log()
        assert s.worker_pids() == before
        # At start: the master stops before starting any worker.
        s.stop_pool()
        start = len(s.pool_log())
        s.start_pool(wait=False)
        assert s.pool.wait(timeout=30) != 0
        log = s.pool_log()[start:]
        assert "configuration error: DOCS_DIR has no readable swagger-ui-bundle.js" in log
        assert "/nonexistent-docs" not in log and "pool ready" not in log and "restarting in" not in log
    finally:
        s.stop()
