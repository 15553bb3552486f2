"""`credstream catalog publish` puts each tenant's validated catalog on the compacted topic."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from kafka import KafkaConsumer, TopicPartition

from credstream.clients import ensure_topics
from credstream.commands.catalog import catalog as catalog_command
from credstream.settings import KafkaSettings
from processors.catalog import decode_catalog, load_catalogs
from schemas.topics import ACHIEVEMENT_CATALOG

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def test_publish_produces_every_tenant_keyed_by_tenant(
    kafka: KafkaSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ensure_topics(kafka, [ACHIEVEMENT_CATALOG])
    partition = TopicPartition(ACHIEVEMENT_CATALOG.name, 0)
    consumer = KafkaConsumer(**kafka.client_options(), enable_auto_commit=False)
    consumer.assign([partition])
    start = consumer.end_offsets([partition])[partition]

    monkeypatch.setenv("CREDSTREAM_KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrap_servers)
    result = CliRunner().invoke(catalog_command, ["publish", str(ROOT / "deploy" / "catalogs")])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"published example-u to {ACHIEVEMENT_CATALOG.name}")

    consumer.seek(partition, start)
    records = []
    deadline = time.monotonic() + 30
    while not records and time.monotonic() < deadline:
        for batch in consumer.poll(timeout_ms=500).values():
            records.extend(r for r in batch if r.key == b"example-u")
    consumer.close()
    assert records, "the catalog record never arrived"
    expected = load_catalogs(ROOT / "deploy" / "catalogs")["example-u"]
    assert decode_catalog(records[0].value) == expected


def test_publish_sends_nothing_when_a_file_is_invalid(
    kafka: KafkaSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CREDSTREAM_KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrap_servers)
    invalid = ROOT / "tests" / "data" / "catalogs" / "invalid"
    result = CliRunner().invoke(catalog_command, ["publish", str(invalid)])
    assert result.exit_code != 0
    assert "must be <= number of rules in 'of' (6)" in str(result.exception)
