"""CREDSTREAM_KAFKA_SESSION_TIMEOUT_MS: how fast a crashed worker's partitions move."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from credstream.roots.processor import _session
from credstream.settings import KafkaSettings


def test_the_processor_gets_the_session_in_seconds_with_three_heartbeats() -> None:
    assert _session(KafkaSettings(session_timeout_ms=9000)) == {
        "broker_session_timeout": 9.0,
        "broker_heartbeat_interval": 3.0,
    }
    assert _session(KafkaSettings(session_timeout_ms=6000))["broker_heartbeat_interval"] == 2.0
    assert _session(KafkaSettings()) == {}  # the client's default


def test_a_session_the_brokers_would_refuse_fails_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREDSTREAM_KAFKA_SESSION_TIMEOUT_MS", "1000")
    with pytest.raises(ValidationError, match="session_timeout_ms"):
        KafkaSettings()
