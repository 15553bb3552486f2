"""Fixtures for tests against the real local stack (`credstream dev up`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from credstream.clients import ensure_topics, s3_client
from credstream.devstack import DevStack, DevStackSettings
from credstream.settings import KafkaSettings, S3Settings
from schemas.topics import Topic


@pytest.fixture(scope="session")
def stack() -> DevStack:
    stack = DevStack(DevStackSettings())
    unhealthy = [s.name for s in stack.status() if not s.healthy]
    assert not unhealthy, f"local stack not healthy ({unhealthy}): run `credstream dev up`"
    return stack


@pytest.fixture(scope="session")
def kafka(stack: DevStack) -> KafkaSettings:
    return KafkaSettings(bootstrap_servers=stack.bootstrap_servers())


@pytest.fixture(scope="session")
def store(stack: DevStack) -> S3Settings:
    return S3Settings(endpoint_url=stack.s3_endpoint(), bucket=stack.settings.s3_bucket)


@pytest.fixture()
def s3(store: S3Settings):  # type: ignore[no-untyped-def]
    return s3_client(store)


@pytest.fixture()
def fresh_topic(kafka: KafkaSettings) -> Iterator[Topic]:
    """A new topic with 3 partitions, unique to the test."""
    topic = Topic(f"test.{uuid.uuid4().hex[:10]}", partitions=3)
    ensure_topics(kafka, [topic])
    yield topic
