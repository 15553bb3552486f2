"""A real Prometheus server (Debian's package) scrapes a worker's endpoint: the series
exist, move, and the alert rules load and evaluate against them."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from credstream.observability import Metrics, MetricsServer

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
DEADLINE = 45.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Prometheus:
    def __init__(self, base: str, process: subprocess.Popen[bytes], log: Path) -> None:
        self.base = base
        self.process = process
        self.log = log

    def api(self, path: str, **params: str) -> Any:
        url = f"{self.base}/api/v1/{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        with urllib.request.urlopen(url, timeout=5) as response:
            body = json.load(response)
        assert body["status"] == "success", body
        return body["data"]

    def query(self, expr: str) -> dict[str, float]:
        """Instant query: the value per series, keyed by its labels as sorted text."""
        result = self.api("query", query=expr)["result"]
        return {
            ",".join(f"{k}={v}" for k, v in sorted(item["metric"].items())): float(item["value"][1])
            for item in result
        }

    def wait_for(self, what: str, condition: Callable[[], bool]) -> None:
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            assert self.process.poll() is None, (
                f"prometheus exited:\n{self.log.read_text()[-3000:]}"
            )
            if condition():
                return
            time.sleep(0.3)
        raise AssertionError(f"Prometheus did not show {what} within {DEADLINE}s")


@pytest.fixture()
def worker(tmp_path: Path) -> Iterator[tuple[Metrics, MetricsServer, dict[str, str | None]]]:
    """A signer-like process's metrics on a free port, announced in a targets folder (as
    CREDSTREAM_METRICS_TARGETS_DIR does); readiness is switchable."""
    metrics = Metrics("signer")
    state: dict[str, str | None] = {"reason": None}
    targets = tmp_path / "targets"
    with MetricsServer(metrics, "127.0.0.1", 0, lambda: state["reason"], 0.0, targets) as server:
        yield metrics, server, state


@pytest.fixture()
def prometheus(
    tmp_path: Path, worker: tuple[Metrics, MetricsServer, dict[str, str | None]]
) -> Iterator[Prometheus]:
    """Prometheus finds the worker through its target file (file_sd), as it would find
    workers on free ports of the local stack."""
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail("prometheus is not installed: run `make test` (deploy/prometheus/install.sh)")
    config = tmp_path / "prometheus.yml"
    config.write_text(
        json.dumps(  # JSON is YAML: no template engine needed
            {
                "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                "rule_files": [str(DEPLOY / "alerts.yml")],
                "scrape_configs": [
                    {
                        "job_name": "credstream-local",
                        "file_sd_configs": [{"files": [str(tmp_path / "targets" / "*.json")]}],
                    }
                ],
            }
        )
    )
    port = free_port()
    log = tmp_path / "prometheus.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={tmp_path / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    server = Prometheus(f"http://127.0.0.1:{port}", process, log)
    try:

        def ready() -> bool:
            try:
                with urllib.request.urlopen(f"{server.base}/-/ready", timeout=2) as response:
                    return bool(response.status == 200)
            except OSError:
                return False

        server.wait_for("/-/ready", ready)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_prometheus_scrapes_the_series_and_sees_them_move(
    prometheus: Prometheus, worker: tuple[Metrics, MetricsServer, dict[str, str | None]]
) -> None:
    metrics, _, readiness = worker
    metrics.consumed("example-u", "accepted", 5)
    metrics.awarded("example-u", 2)
    metrics.signed("example-u", "eddsa-rdfc-2022", 2)
    metrics.stored("example-u", "created", 2)
    now = time.time()
    metrics.notified("example-u", occurred_at=now - 0.2, now=now)
    metrics.notified("example-u", occurred_at=now - 0.3, now=now)
    metrics.set_consumer_lag("signer", {"credential.requested.v1": 42})
    metrics.dead_lettered("signer", "SigningError")

    accepted = 'credstream_events_consumed_total{outcome="accepted",tenant="example-u"}'
    prometheus.wait_for(
        "the first values", lambda: list(prometheus.query(accepted).values()) == [5]
    )
    up = prometheus.query('up{job="credstream-signer"}')
    assert list(up.values()) == [1.0]
    lag = prometheus.query("sum by (group, topic) (credstream_consumer_lag)")
    assert lag == {"group=signer,topic=credential.requested.v1": 42.0}

    # The series move: Prometheus sees the new values on its next scrapes.
    metrics.consumed("example-u", "accepted", 7)
    metrics.set_consumer_lag("signer", {"credential.requested.v1": 3})
    prometheus.wait_for(
        "the counter move to 12", lambda: list(prometheus.query(accepted).values()) == [12]
    )
    prometheus.wait_for(
        "the lag fall to 3",
        lambda: list(prometheus.query("sum(credstream_consumer_lag)").values()) == [3.0],
    )
    p50 = prometheus.query(
        "histogram_quantile(0.5, sum by (le) (credstream_issuance_latency_seconds_bucket))"
    )
    assert (
        0.1 < next(iter(p50.values())) <= 0.5
    )  # both observations are in (0.1, 0.25] and (0.25, 0.5]

    # Readiness is a series too: a failing self-test shows as credstream_ready 0.
    ready = 'credstream_ready{stage="signer"}'
    assert list(prometheus.query(ready).values()) == [1.0]
    readiness["reason"] = "fixture credential does not verify"
    prometheus.wait_for(
        "credstream_ready fall to 0", lambda: list(prometheus.query(ready).values()) == [0.0]
    )

    # Every name the worker defines that has a value reached Prometheus under that name.
    known = set(prometheus.api("label/__name__/values"))
    expected = {
        "credstream_events_consumed_total",
        "credstream_awards_total",
        "credstream_credentials_signed_total",
        "credstream_credentials_stored_total",
        "credstream_credentials_notified_total",
        "credstream_dead_letters_total",
        "credstream_issuance_latency_seconds_bucket",
        "credstream_sign_seconds_count",
        "credstream_consumer_lag",
        "credstream_integrity_alarms_total",
        "credstream_build_info",
        "process_cpu_seconds_total",
    }
    assert expected <= known, expected - known


def test_the_alert_rules_load_and_evaluate_without_errors(prometheus: Prometheus) -> None:
    def rules() -> list[dict[str, Any]]:
        return [r for g in prometheus.api("rules")["groups"] for r in g["rules"]]

    prometheus.wait_for(
        "every rule evaluated", lambda: rules() and all(r["health"] == "ok" for r in rules())
    )
    names = {r["name"] for r in rules()}
    assert names == {
        "CredstreamConsumerLagGrowing",
        "CredstreamNoCredentialsIssued",
        "CredstreamDeadLetterRate",
        "CredstreamIntegrityAlarm",
        "CredstreamSignerNotReady",
        "CredstreamWorkerNotReady",
        "CredstreamStatusListPublicationStale",
    }
