"""The alert rules and scrape configs pass promtool: syntax, and the rules' own unit tests."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from credstream.observability import Metrics
from tests.unit._promql import metric_names

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
PROMETHEUS = DEPLOY / "prometheus"


def promtool(*args: str) -> str:
    binary = shutil.which("promtool")
    if binary is None:
        pytest.fail("promtool is not installed: run `make test` (deploy/prometheus/install.sh)")
    result = subprocess.run(
        [binary, *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def test_alert_rules_are_valid() -> None:
    assert "SUCCESS: 7 rules found" in promtool("check", "rules", "alerts.yml")


def test_alert_rule_unit_tests_pass() -> None:
    assert "SUCCESS" in promtool("test", "rules", "alerts.test.yml")


@pytest.mark.parametrize(
    "config", [PROMETHEUS / "prometheus.yml", DEPLOY / "compose" / "prometheus.yml"]
)
def test_scrape_configs_are_valid(config: Path) -> None:
    promtool("check", "config", str(config))


def test_every_alert_is_tested_and_uses_only_defined_series() -> None:
    rules = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"][0]["rules"]
    tests = yaml.safe_load((PROMETHEUS / "alerts.test.yml").read_text())["tests"]
    tested = {case["alertname"] for t in tests for case in t["alert_rule_test"]}
    assert {r["alert"] for r in rules} <= tested
    defined = Metrics("x").series_names() | {"up"}
    for rule in rules:
        assert metric_names(rule["expr"]) <= defined, rule["alert"]
