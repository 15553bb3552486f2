"""Scenario 12: the key service is unreachable, then throttling, when a signer starts.

The tenant's key is KMS-sealed (its seed encrypted under a KMS key of a local
KMS-compatible server, moto's); the signer reaches KMS through a fault proxy that first
refuses every connection, then answers every request with ThrottlingException, then
forwards. Meanwhile the signer must report not-ready (``/readyz``), retry with backoff,
dead-letter nothing, and once KMS answers issue every credential. Short: 10 s down and
5 s throttled; full: 60 s down (twice the default retry budget) and 30 s throttled.
"""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr

from credstream.e2e import expected_awards
from credstream.pipeline import LocalPipeline, prepare
from credstream.settings import KafkaSettings, S3Settings
from processors.catalog import load_catalog
from signers.keys import KeySettings, generate_key, kms_client
from tests.integration.workers import PASSPHRASE, SAMPLE_CATALOG, produce_events
from tests.system._harness import (
    FULL,
    Crew,
    audit,
    committed,
    sized,
    topic_end,
    wait,
    wait_drained,
    workload_events,
)
from tests.system._proxy import KMS_THROTTLING, FaultProxy, free_port
from tests.system.conftest import Recorder


@pytest.fixture(scope="module")
def kms() -> Iterator[str]:
    """moto's standalone server: a KMS-compatible endpoint on loopback."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto server did not start") from None
                time.sleep(0.2)
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=10)


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/readyz", timeout=40):
            return True
    except urllib.error.HTTPError:
        return False


def test_a_signer_waits_out_an_unreachable_and_throttling_kms(
    kafka: KafkaSettings, store: S3Settings, kms: str, tmp_path: Path, scenario: Recorder
) -> None:
    run = uuid.uuid4().hex[:8]
    kms_settings = {
        "kms_region": "us-east-1",
        "kms_access_key_id": "testing",
        "kms_secret_access_key": SecretStr("testing"),
    }
    direct = KeySettings(keyring_dir=tmp_path / "keys", kms_endpoint_url=kms, **kms_settings)
    sealing = kms_client(direct).create_key(Description="chaos sealing key")["KeyMetadata"]["Arn"]
    catalog = load_catalog(SAMPLE_CATALOG).model_copy(update={"tenant": f"kms-{run}"})
    generate_key(
        direct, catalog.tenant, now=datetime.now(UTC), backend="kms-sealed",
        kms_key_id=sealing, did=catalog.issuer.id,
    )  # fmt: skip
    down, throttled = sized(10, 60), sized(5, 30)
    with FaultProxy(kms.removeprefix("http://")) as proxy:
        pipeline = LocalPipeline(
            kafka=kafka.model_copy(update={"topic_prefix": f"kms-{run}."}),
            store=store, catalog=catalog, home=tmp_path, passphrase=PASSPHRASE,
            extra_env={
                "CREDSTREAM_KEYS_KMS_ENDPOINT_URL": proxy.url,
                "CREDSTREAM_KEYS_KMS_REGION": "us-east-1",
                "CREDSTREAM_KEYS_KMS_ACCESS_KEY_ID": "testing",
                "CREDSTREAM_KEYS_KMS_SECRET_ACCESS_KEY": "testing",
            },
        )  # fmt: skip
        prepare(pipeline)  # the sealed key is already the tenant's active key
        events = workload_events(pipeline, mixed=sized(500, 5000), burst=sized(500, 5000))
        expected = expected_awards(pipeline, events)
        produce_events(pipeline, events)
        issued = pipeline.topology.issued.name
        dead = pipeline.topology.dead_letters(pipeline.topology.requests).name
        # Short: a retry budget shorter than the outage, so it runs out (the path that lost
        # credentials) inside a short run too; full: the default 30 s, twice over.
        budget = {} if FULL else {"CREDSTREAM_KEYS_KMS_RETRY_BUDGET_SECONDS": "4"}
        with Crew(pipeline, CREDSTREAM_SIGNER_PROCESSES="1", **budget) as crew:
            proxy.set_mode("refuse")
            down_since = time.monotonic()
            crew.start("processor")
            signer = crew.start("signer")
            wait(lambda: crew.metrics_url(signer) is not None, 60, "the signer's endpoint", crew)
            url = crew.metrics_url(signer)
            assert url is not None
            wait(lambda: committed(pipeline, "processor")[0] >= len(events), 300, "events", crew)
            ready_while_down = _ready(url)
            time.sleep(max(0.0, down_since + down - time.monotonic()))
            issued_while_down = topic_end(pipeline, issued)
            proxy.set_mode("respond", KMS_THROTTLING)
            time.sleep(throttled)
            ready_while_throttled = _ready(url)
            issued_while_throttled = topic_end(pipeline, issued) - issued_while_down
            proxy.set_mode("forward")
            back = time.monotonic()
            became_ready = wait(lambda: _ready(url), 120, "the signer to be ready", crew)
            wait_drained(pipeline, crew, sized(300, 1200))
            first_to_last = time.monotonic() - back
        result = audit(pipeline, expected)
        dead_letters = topic_end(pipeline, dead)
    scenario(
        12,
        "KMS unreachable then throttling at signer start (KMS-sealed key)",
        events=len(events),
        kms_down_seconds=down,
        kms_throttled_seconds=throttled,
        ready_while_down=ready_while_down,
        ready_while_throttled=ready_while_throttled,
        issued_while_down=issued_while_down,
        issued_while_throttled=issued_while_throttled,
        throttled_answers=proxy.stats.answered,
        ready_after_seconds=round(became_ready, 1),
        drained_after_seconds=round(first_to_last, 1),
        request_dead_letters=dead_letters,
        **result.figures(),
    )
    assert not ready_while_down and not ready_while_throttled
    assert issued_while_down == 0 and issued_while_throttled == 0
    assert proxy.stats.answered > 0  # the signer kept retrying while throttled
    assert dead_letters == 0
    assert result.exact, result.explain()
