"""/docs (Swagger UI) and /redoc (ReDoc) in a real headless Chromium, through the real nginx and pool, at the site's
root and under a mount prefix: every operation of /openapi.json is listed, "Try it out" → "Execute" on GET /health
shows a 200, the pages' Content-Security-Policy blocks nothing they need, and a screenshot of each page is kept:
in the run folder (TEST_RUN_DIR/artifacts, removed with it) and in the checkout's git-ignored test-artifacts/.

Every wait is an explicit one with a deadline; nothing sleeps for a fixed time.
"""
import os
import re
import shutil

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from conftest import ROOT, RUN_DIR, Stack
from docs_site import PREFIX, SITE

DEADLINE = 30  # seconds, for any one thing the browser must show
# ReDoc's side menu shows Redocly's logo from cdn.redoc.ly: the pages' policy blocks that one image on purpose
# (offline, and no third party called from a visitor's browser). Any other report fails the test.
EXPECTED_BLOCK = "https://cdn.redoc.ly/redoc/logo-mini.svg"
ARTIFACTS = [os.path.join(RUN_DIR, "artifacts", "docs-browser"), os.path.join(ROOT, "test-artifacts", "docs-browser")]


@pytest.fixture(scope="module")
def mounted(request):
    s = Stack("browser", site=SITE, workers=2)
    request.addfinalizer(s.stop)
    return s


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    profile = os.path.join(RUN_DIR, "chromium-profile")
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1280,2400", f"--user-data-dir={profile}", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # The Debian driver by path: Selenium Manager (which would go online) is never asked.
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(DEADLINE)
    driver.set_script_timeout(DEADLINE)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def operations(http, s, prefix):
    """The document's operation ids, as the page at `prefix` fetches it."""
    document = http.get(s.url(prefix + "/openapi.json")).json()
    return {op["operationId"] for path in document["paths"].values() for op in path.values()}


def wait_until(driver, condition, what):
    return WebDriverWait(driver, DEADLINE, poll_frequency=0.1).until(condition, message=f"{what} within {DEADLINE} s")


def console_problems(driver):
    """Console messages at SEVERE level (CSP reports, failed loads, script errors), less the one expected block."""
    return [entry["message"] for entry in driver.get_log("browser")
            if entry["level"] == "SEVERE" and EXPECTED_BLOCK not in entry["message"]]


def keep_screenshot(driver, name):
    png = driver.get_screenshot_as_png()
    for folder in ARTIFACTS:
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, name), "wb") as f:
            f.write(png)
    assert len(png) > 10_000  # a rendered page, not a blank one


@pytest.mark.parametrize("prefix", ["", PREFIX], ids=["root", "prefix"])
def test_swagger_ui_lists_every_operation_and_tries_health(mounted, browser, http, prefix):
    expected = operations(http, mounted, prefix)
    browser.get_log("browser")  # start from an empty console
    browser.get(mounted.url(prefix + "/docs"))
    assert browser.title == "User Service - Swagger UI"
    blocks = wait_until(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, ".opblock")) >= len(expected) and
                        d.find_elements(By.CSS_SELECTOR, ".opblock"), "every operation in Swagger UI")
    # Swagger UI's ids are "operations-{tag}-{operationId}".
    listed = {re.sub(r"^operations-[a-z]+-", "", b.get_attribute("id")) for b in blocks}
    assert listed == expected

    health = browser.find_element(By.ID, "operations-system-get_health")
    health.find_element(By.CSS_SELECTOR, ".opblock-summary").click()
    wait_until(browser, lambda d: health.find_elements(By.CSS_SELECTOR, ".try-out__btn"), "the Try it out button")[0].click()
    wait_until(browser, lambda d: health.find_elements(By.CSS_SELECTOR, "button.execute"), "the Execute button")[0].click()
    status = wait_until(browser, lambda d: health.find_elements(By.CSS_SELECTOR, ".live-responses-table tr.response .response-col_status"),
                        "the response of GET /health")
    assert status[0].text.strip() == "200"
    # The request went through the mount the page was served from.
    url = health.find_element(By.CSS_SELECTOR, ".request-url pre").text
    assert url == mounted.url(prefix + "/health"), url
    keep_screenshot(browser, f"swagger-ui-{'prefix' if prefix else 'root'}.png")
    assert console_problems(browser) == []


@pytest.mark.parametrize("prefix", ["", PREFIX], ids=["root", "prefix"])
def test_redoc_lists_every_operation(mounted, browser, http, prefix):
    expected = operations(http, mounted, prefix)
    browser.get_log("browser")
    browser.get(mounted.url(prefix + "/redoc"))
    assert browser.title == "User Service - ReDoc"
    wait_until(browser, lambda d: {e.get_attribute("data-section-id") for e in
                                   d.find_elements(By.CSS_SELECTOR, "[data-section-id^='operation/']")} >= {f"operation/{o}" for o in expected},
               "every operation in ReDoc")
    sections = {e.get_attribute("data-section-id").removeprefix("operation/")
                for e in browser.find_elements(By.CSS_SELECTOR, "[data-section-id^='operation/']")}
    assert sections == expected
    # ReDoc's "Download" link is the document it read: the one under the mount the page came from.
    download = browser.find_element(By.CSS_SELECTOR, "a[download]").get_attribute("href")
    assert download == mounted.url(prefix + "/openapi.json"), download
    keep_screenshot(browser, f"redoc-{'prefix' if prefix else 'root'}.png")
    assert console_problems(browser) == []
