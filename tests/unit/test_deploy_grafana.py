"""The Grafana dashboard: every query is valid PromQL and reads only series Metrics defines."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from credstream.observability import Metrics
from tests.unit._promql import metric_names

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "credstream.json"
PROMETHEUS_BUILTINS = {"up"}


def panels(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = []
    for panel in items:
        found.append(panel)
        found += panels(panel.get("panels", []))
    return found


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return loaded


def expressions() -> list[str]:
    return [t["expr"] for p in panels(dashboard()["panels"]) for t in p.get("targets", [])]


def as_plain_promql(expr: str) -> str:
    """Grafana's variables replaced by what they stand for."""
    return expr.replace("$__rate_interval", "5m").replace("$tenant", ".*")


def test_metric_names_parser_reads_our_kind_of_promql() -> None:
    expr = (
        'histogram_quantile(0.99, sum by (le) (rate(a_bucket{x=~"$t"}[5m]))) '
        "/ on (job) group_left b offset 10m + time() - c > bool 1e3"
    )
    assert metric_names(expr) == {"a_bucket", "b", "c"}


def test_every_query_reads_only_series_that_metrics_defines() -> None:
    defined = Metrics("any").series_names() | PROMETHEUS_BUILTINS
    exprs = expressions()
    assert len(exprs) >= 15
    for expr in exprs:
        names = metric_names(expr)
        assert names, f"no metric in {expr!r}"
        assert names <= defined, f"{sorted(names - defined)} in {expr!r} are not defined"
    for variable in dashboard()["templating"]["list"]:
        if variable["type"] == "query":
            inner = re.fullmatch(r"label_values\((\w+), *(\w+)\)", variable["definition"])
            assert inner and inner.group(1) in defined, variable["definition"]


def test_the_dashboard_shows_what_operators_watch() -> None:
    text = " ".join(expressions())
    for needed in (
        "credstream_events_consumed_total",
        "credstream_credentials_notified_total",
        "credstream_consumer_lag",
        "histogram_quantile(0.99, sum by (le) (rate(credstream_issuance_latency_seconds_bucket",
        "credstream_dead_letters_total",
        "credstream_integrity_alarms_total",
        "credstream_status_list_published_timestamp_seconds",
    ):
        assert needed in text
    ids = [p["id"] for p in panels(dashboard()["panels"])]
    assert len(ids) == len(set(ids))


def test_every_query_is_valid_promql(tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is not installed: run `make test` (deploy/prometheus/install.sh)")
    rules = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [
                    {"record": f"dashboard:query_{i}", "expr": as_plain_promql(expr)}
                    for i, expr in enumerate(expressions())
                ],
            }
        ]
    }
    path = tmp_path / "dashboard-queries.yml"
    path.write_text(yaml.safe_dump(rules))
    result = subprocess.run(
        [promtool, "check", "rules", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
