"""The Grafana dashboard and the Prometheus rules (docs/monitoring): valid, unit-tested, and naming only metrics and
labels the service exports."""
import json
import os
import re
import subprocess

from auth_helpers import new_user
from conftest import ROOT

MONITORING = os.path.join(ROOT, "docs", "monitoring")
RULES = os.path.join(MONITORING, "alerts.yml")
DASHBOARD = os.path.join(MONITORING, "grafana-dashboard.json")


def promtool(*arguments):
    result = subprocess.run(["promtool", *arguments], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_the_rules_are_valid_and_each_alert_fires_when_it_should():
    assert "SUCCESS: 7 rules found" in promtool("check", "rules", RULES)
    assert "SUCCESS" in promtool("test", "rules", os.path.join("Tests", "monitoring", "alerts-test.yml"))


def queries():
    with open(DASHBOARD) as f:
        dashboard = json.load(f)
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    with open(RULES) as f:
        exprs += re.findall(r"expr: (?:\|\n)?((?:.+\n?)+?)\s+(?:for|labels):", f.read())
    return exprs


def test_the_dashboard_and_rules_name_only_what_the_service_exports(stack, http):
    # Traffic of every kind the panels show: answers, a security event, a password hash.
    new_user(http, stack)
    http.get(stack.url("/api/v1/does-not-exist"))
    exported = http.get(stack.url("/metrics")).text
    names = set(re.findall(r"^(user_service_\w+)(?:\{|\s)", exported, re.M))
    labels = set(re.findall(r"[{,](\w+)=\"", exported))
    exprs = queries()
    used = set(re.findall(r"\buser_service_\w+", " ".join(exprs)))
    assert len(used) >= 8 and used <= names, used - names
    used_labels = set(re.findall(r"\b(?:by|without) \(([\w, ]+)\)", " ".join(exprs)))
    used_labels = {name.strip() for group in used_labels for name in group.split(",")}
    used_labels |= set(re.findall(r"\{(\w+)[=!~]", " ".join(exprs))) | set(re.findall(r",\s*(\w+)[=!~]", " ".join(exprs)))
    # job and instance come from Prometheus's scrape; le from the histogram's buckets.
    assert used_labels - {"job", "instance", "le"} <= labels, used_labels - labels
