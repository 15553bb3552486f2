"""The processor (Faust) against the real broker: exactly the awards the oracle computes."""

from __future__ import annotations

import urllib.request
from pathlib import Path

from credstream.clients import kafka_producer
from credstream.observability import parse_metrics, target_urls
from credstream.pipeline import read_all, running, wait_until
from credstream.roots.processor import APP_ID
from credstream.settings import KafkaSettings, S3Settings
from processors.catalog import Catalog
from processors.criteria import replay
from schemas.codec import Codec
from schemas.models import CredentialRequested
from tests.integration.workers import (
    committed_everything,
    new_pipeline,
    produce_events,
    synthetic_events,
)

EVENTS = 20_000


def test_processor_awards_exactly_what_the_oracle_computes(
    kafka: KafkaSettings, store: S3Settings, tmp_path: Path
) -> None:
    pipeline = new_pipeline(kafka, store, tmp_path)
    events = synthetic_events(pipeline, EVENTS, learners=1500)
    expected = [
        award
        for award in replay([e.model_dump_json() for e in events], Catalog([pipeline.catalog]))
        if isinstance(award, CredentialRequested)
    ]
    assert len(expected) > 50  # the workload earns a fair number of awards
    produce_events(pipeline, events)
    with kafka_producer(pipeline.kafka) as producer:  # poison: not Avro, and unsigned
        producer.send(pipeline.topology.assessments.name, key=b"x/y", value=b"garbage")
        producer.flush()

    topology = pipeline.topology
    group = f"{pipeline.kafka.topic_prefix}{APP_ID}"
    source = topology.assessments.name
    targets = tmp_path / "targets"
    with running(pipeline, ["processor"], CREDSTREAM_METRICS_TARGETS_DIR=str(targets)) as workers:
        wait_until(
            lambda: committed_everything(pipeline.kafka, group, topology.assessments.name),
            seconds=180,
            what="the processor to commit every event",
            alive=list(workers.values()),
        )
        # It reports its group's lag like every worker: the backlog, then none (every 5 s).
        lag_key = ("credstream_consumer_lag", (("group", group), ("topic", source)))
        wait_until(
            lambda: _scrape(targets).get(lag_key) == 0,
            seconds=30,
            what="the processor to report a lag of 0",
            alive=list(workers.values()),
        )
    codec = Codec()
    produced = [
        codec.decode_as(r.value, CredentialRequested)
        for r in read_all(pipeline.kafka, topology.requests.name, len(expected))
    ]
    by_id = {award.credential_id: award for award in produced}
    assert len(by_id) == len(produced), "an award was requested twice"
    assert sorted(by_id) == sorted(a.credential_id for a in expected)
    for award in expected:
        assert by_id[award.credential_id] == award  # same time, evidence and learner
    dead = read_all(pipeline.kafka, topology.dead_letters(topology.assessments).name, 1)
    assert [dict(d.headers)["cs-dlq-error-class"] for d in dead] == [b"UnknownSchemaError"]


def _scrape(targets: Path) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    urls = target_urls(targets)
    if not urls:
        return {}
    with urllib.request.urlopen(urls[0], timeout=5) as response:
        return parse_metrics(response.read().decode())
