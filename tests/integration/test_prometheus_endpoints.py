"""A worker's HTTP endpoints over a real socket: /metrics, /healthz, /readyz."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import pytest

from credstream.errors import ConfigurationError
from credstream.observability import Metrics, MetricsServer, MetricsSettings, parse_metrics, serve


def get(url: str, accept: str = "") -> tuple[int, str, str]:
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode()


def test_metrics_health_and_readiness() -> None:
    metrics = Metrics("signer")
    metrics.awarded("u", 3)
    reasons: list[str | None] = ["signing key not loaded"]
    with MetricsServer(metrics, "127.0.0.1", 0, lambda: reasons[0], readiness_ttl=0) as server:
        status, content_type, body = get(f"{server.url}/metrics")
        assert status == 200 and content_type.startswith("text/plain")
        samples = parse_metrics(body)
        assert samples[("credstream_awards_total", (("tenant", "u"),))] == 3
        assert samples[("credstream_ready", (("stage", "signer"),))] == 0

        assert get(f"{server.url}/healthz")[:1] == (200,)
        status, _, body = get(f"{server.url}/readyz")
        assert (status, body) == (503, "not ready: signing key not loaded\n")

        reasons[0] = None
        status, _, body = get(f"{server.url}/readyz")
        assert (status, body) == (200, "ready\n")
        body = get(f"{server.url}/metrics")[2]
        assert parse_metrics(body)[("credstream_ready", (("stage", "signer"),))] == 1

        status, content_type, body = get(
            f"{server.url}/metrics", accept="application/openmetrics-text; version=1.0.0"
        )
        assert content_type.startswith("application/openmetrics-text") and "# EOF" in body
        assert get(f"{server.url}/nope")[0] == 404


def test_serve_uses_the_stage_default_port_unless_set_and_a_busy_port_names_the_setting() -> None:
    with serve(Metrics("processor"), MetricsSettings(port=0)) as first:
        assert first.port > 0
        busy = MetricsSettings(port=first.port)
        with pytest.raises(ConfigurationError, match="CREDSTREAM_METRICS_PORT"):
            serve(Metrics("processor"), busy)
    assert MetricsSettings().port_for("signer") == 9402
    assert MetricsSettings(port=7000).port_for("signer") == 7000


def test_top_once_shows_a_live_workers_figures_and_fails_when_none_answers() -> None:
    from click.testing import CliRunner

    from credstream.commands.top import top

    metrics = Metrics("signer")
    metrics.set_consumer_lag("credstream-signer", {"credential.requested.v1": 1234})
    metrics.dead_lettered("signer", "SigningError", 2)
    with MetricsServer(metrics, "127.0.0.1", 0) as server:
        url = f"{server.url}/metrics"
        result = CliRunner().invoke(top, ["--once", "--interval", "0.1", "--target", url])
    assert result.exit_code == 0, result.output
    assert f"{url} " in result.output and "up signer ready" in result.output
    assert "credential.requested.v1" in result.output and "1,234" in result.output
    assert "signer: SigningError" in result.output
    # The server is closed now: nobody answers.
    result = CliRunner().invoke(top, ["--once", "--interval", "0.1", "--target", url])
    assert result.exit_code == 1
    assert "down:" in result.output


def test_a_worker_announces_itself_while_it_serves(tmp_path: Path) -> None:
    from credstream.observability import target_urls

    settings = MetricsSettings(port=0, targets_dir=tmp_path)
    with serve(Metrics("renderer"), settings) as server:
        assert target_urls(tmp_path) == [f"{server.url}/metrics"]
        assert get(target_urls(tmp_path)[0])[0] == 200
    assert target_urls(tmp_path) == []
