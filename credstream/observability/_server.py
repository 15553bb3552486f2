"""The HTTP endpoints of every worker: ``/metrics``, ``/healthz`` and ``/readyz``.

A stdlib HTTP server in a daemon thread: it never blocks the worker, and it dies with it.
``/healthz`` says the process is alive (200 while it serves at all). ``/readyz`` runs the
injected readiness check (the signer's signs and verifies a fixture credential) and
answers 503 with the reason while it fails. The check's result is cached for a short
time, so probes and scrapes together cost at most one check per interval.
"""

from __future__ import annotations

import errno
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from credstream.errors import ConfigurationError
from credstream.observability._metrics import Metrics
from credstream.observability._settings import MetricsSettings
from credstream.observability._targets import register_target

# Returns None when ready, else why not (one line, never a secret).
ReadinessCheck = Callable[[], str | None]


def always_ready() -> str | None:
    return None


class Readiness:
    """Runs a readiness check at most once per ``ttl`` seconds and reports it as a gauge."""

    def __init__(
        self,
        metrics: Metrics,
        check: ReadinessCheck = always_ready,
        ttl: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._metrics = metrics
        self._check = check
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._checked_at: float | None = None
        self._reason: str | None = None

    def reason(self) -> str | None:
        """None when ready, else the reason; a check that raises is not ready."""
        with self._lock:
            now = self._clock()
            if self._checked_at is None or now - self._checked_at >= self._ttl:
                try:
                    self._reason = self._check()
                except Exception as error:  # a failing check means "not ready", said why
                    self._reason = f"{type(error).__name__}: {error}"
                self._checked_at = now
                self._metrics.set_ready(self._reason is None)
            return self._reason


class MetricsServer:
    """Serves one process's metrics and probes on ``host:port`` (port 0: any free port)."""

    def __init__(
        self,
        metrics: Metrics,
        host: str,
        port: int,
        readiness: ReadinessCheck = always_ready,
        readiness_ttl: float = 2.0,
        targets_dir: Path | None = None,
    ) -> None:
        self.metrics = metrics
        self.readiness = Readiness(metrics, readiness, readiness_ttl)
        handler = _handler(metrics, self.readiness)
        try:
            self._httpd = ThreadingHTTPServer((host, port), handler)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise ConfigurationError(
                    f"the metrics port {host}:{port} is busy: choose another with "
                    "CREDSTREAM_METRICS_PORT (0 picks a free one)"
                ) from error
            raise ConfigurationError(
                f"cannot serve metrics on {host}:{port} ({error.strerror}): "
                "check CREDSTREAM_METRICS_HOST and CREDSTREAM_METRICS_PORT"
            ) from error
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="metrics-http", daemon=True
        )
        self._thread.start()
        self._target_file = (
            register_target(targets_dir, metrics.stage, f"{self.host}:{self.port}")
            if targets_dir is not None
            else None
        )

    @property
    def host(self) -> str:
        host = str(self._httpd.server_address[0])
        return "127.0.0.1" if host == "0.0.0.0" else host  # noqa: S104

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def close(self) -> None:
        if self._target_file is not None:
            self._target_file.unlink(missing_ok=True)
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> MetricsServer:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _handler(metrics: Metrics, readiness: Readiness) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                readiness.reason()  # keeps credstream_ready current on every scrape
                body, content_type = metrics.exposition(self.headers.get("Accept", ""))
                self._reply(200, body, content_type)
            elif path == "/healthz":
                self._reply(200, b"ok\n")
            elif path == "/readyz":
                reason = readiness.reason()
                if reason is None:
                    self._reply(200, b"ready\n")
                else:
                    self._reply(503, f"not ready: {reason}\n".encode())
            else:
                self._reply(404, b"not found: try /metrics, /healthz or /readyz\n")

        def _reply(self, status: int, body: bytes, content_type: str = "text/plain") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Scrapes and probes every few seconds would drown the worker's own log."""

    return Handler


def serve(
    metrics: Metrics, settings: MetricsSettings, readiness: ReadinessCheck = always_ready
) -> MetricsServer:
    """Starts the endpoints of a worker, on the port its settings give for its stage."""
    return MetricsServer(
        metrics,
        settings.host,
        settings.port_for(metrics.stage),
        readiness,
        settings.readiness_ttl_seconds,
        settings.targets_dir,
    )
