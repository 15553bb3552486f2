"""Metrics, health and readiness of every credstream worker, and what reads them.

A worker's composition root builds one :class:`Metrics` (its own registry) and starts
its endpoints with :func:`serve`::

    metrics = Metrics("signer")
    server = serve(metrics, MetricsSettings(), readiness=signer_self_test)
    ...
    metrics.signed(tenant, "eddsa-rdfc-2022", len(batch))

``/metrics`` (Prometheus), ``/healthz`` (alive) and ``/readyz`` (the readiness check;
503 with the reason while it fails). :func:`consumer_lag` computes the lag the
``credstream_consumer_lag`` gauge reports. With ``CREDSTREAM_METRICS_TARGETS_DIR`` set,
a worker announces its address there (Prometheus file_sd), so workers on free ports are
found. ``credstream top`` uses :func:`scrape`, :func:`summarize` and :func:`render`.
"""

from __future__ import annotations

from credstream.observability._lag import OffsetWatch, consumer_lag, lag_by_topic
from credstream.observability._metrics import (
    BATCH_BUCKETS,
    DURATION_BUCKETS,
    LATENCY_BUCKETS,
    ConsumedOutcome,
    IntegrityKind,
    Metrics,
    RenderOutcome,
    StatusPurpose,
    StoredOutcome,
)
from credstream.observability._scrape import scrape
from credstream.observability._server import (
    MetricsServer,
    Readiness,
    ReadinessCheck,
    always_ready,
    serve,
)
from credstream.observability._settings import DEFAULT_PORTS, MetricsSettings, TopSettings
from credstream.observability._targets import register_target, target_urls
from credstream.observability._top import (
    Snapshot,
    TargetScrape,
    View,
    histogram_quantile,
    parse_metrics,
    render,
    summarize,
)

__all__ = [
    "BATCH_BUCKETS",
    "DEFAULT_PORTS",
    "DURATION_BUCKETS",
    "LATENCY_BUCKETS",
    "ConsumedOutcome",
    "IntegrityKind",
    "Metrics",
    "MetricsServer",
    "MetricsSettings",
    "OffsetWatch",
    "Readiness",
    "ReadinessCheck",
    "RenderOutcome",
    "Snapshot",
    "StatusPurpose",
    "StoredOutcome",
    "TargetScrape",
    "TopSettings",
    "View",
    "always_ready",
    "consumer_lag",
    "histogram_quantile",
    "lag_by_topic",
    "parse_metrics",
    "register_target",
    "render",
    "scrape",
    "serve",
    "summarize",
    "target_urls",
]
