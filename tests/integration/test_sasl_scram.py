"""Kafka with SASL/SCRAM-SHA-512 and ACLs enforced (deploy/security/acls.yaml).

A private broker (its own home and ports, the shared jar cache) whose client listener
only speaks SASL_PLAINTEXT with SCRAM users created at format time. Workers with their
credentials produce and consume their own topics, through both client libraries
(kafka-python, and aiokafka with Faust's credentials); the ACLs refuse a processor that
writes credentials; a client without credentials, or with a wrong password, is refused.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth
from kafka import KafkaAdminClient, KafkaProducer, TopicPartition
from kafka.admin import (
    ACL,
    ACLFilter,
    ACLOperation,
    ACLPermissionType,
    ACLResourcePatternType,
    ResourcePattern,
    ResourcePatternFilter,
    ResourceType,
)
from kafka.errors import (
    GroupAuthorizationFailedError,
    KafkaTimeoutError,
    TopicAuthorizationFailedError,
)
from pydantic import SecretStr

from credstream.clients import ensure_topics, kafka_consumer, kafka_producer
from credstream.devstack import DevStack, DevStackSettings, SaslConfig
from credstream.observability import OffsetWatch
from credstream.settings import KafkaSettings
from schemas.topics import Topology

ACL_FILE = Path(__file__).resolve().parents[2] / "deploy" / "security" / "acls.yaml"
PRINCIPALS: dict[str, dict[str, list[str]]] = yaml.safe_load(ACL_FILE.read_text())["principals"]
TOPICS = Topology()


@dataclass(frozen=True)
class Secured:
    stack: DevStack
    passwords: dict[str, str]

    def settings(self, user: str, password: str | None = None) -> KafkaSettings:
        return KafkaSettings(
            bootstrap_servers=self.stack.bootstrap_servers(),
            security_protocol="SASL_PLAINTEXT",
            sasl_mechanism="SCRAM-SHA-512",
            sasl_username=user,
            sasl_password=SecretStr(password or self.passwords[user]),
            client_id=f"test-{user}",
        )

    @property
    def broker_log(self) -> Path:
        return self.stack.home / "logs" / "kafka-1.log"


def acls_of(principals: dict[str, dict[str, list[str]]]) -> list[ACL]:
    """acls.yaml as kafka-python ACL bindings."""
    grants = {
        "read": (ResourceType.TOPIC, ACLOperation.READ, ACLResourcePatternType.LITERAL),
        "write": (ResourceType.TOPIC, ACLOperation.WRITE, ACLResourcePatternType.LITERAL),
        "groups": (ResourceType.GROUP, ACLOperation.READ, ACLResourcePatternType.LITERAL),
        "prefixed": (ResourceType.TOPIC, ACLOperation.ALL, ACLResourcePatternType.PREFIXED),
        "describe": (ResourceType.TOPIC, ACLOperation.DESCRIBE, ACLResourcePatternType.LITERAL),
        "describe_groups": (
            ResourceType.GROUP,
            ACLOperation.DESCRIBE,
            ACLResourcePatternType.LITERAL,
        ),
    }
    return [
        ACL(
            f"User:{principal}",
            "*",
            operation,
            ACLPermissionType.ALLOW,
            ResourcePattern(resource, name, pattern),
        )
        for principal, granted in principals.items()
        for kind, names in granted.items()
        for resource, operation, pattern in [grants[kind]]
        for name in names
    ]


@pytest.fixture(scope="module")
def secured(stack: DevStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Secured]:
    passwords = {name: secrets.token_urlsafe(18) for name in ["admin", *PRINCIPALS]}
    settings = DevStackSettings(
        home=tmp_path_factory.mktemp("sasl") / "stack",
        cache=stack.settings.cache,
        # Below the ephemeral range (32768-60999), where a client's source port can take them.
        kafka_port=29094,
        controller_port=29194,
        s3_port=27072,
        kafka_heap="256m",
    )
    sasl = SaslConfig(
        "admin",
        SecretStr(passwords["admin"]),
        {name: SecretStr(passwords[name]) for name in PRINCIPALS},
    )
    private = DevStack(settings, sasl=sasl)
    try:
        private.up(echo=lambda _: None)
        secure = Secured(private, passwords)
        admin_settings = secure.settings("admin")
        ensure_topics(admin_settings, TOPICS.all())
        admin = KafkaAdminClient(**admin_settings.client_options())
        try:
            wanted = acls_of(PRINCIPALS)
            result = admin.create_acls(wanted)
            assert not result["failed"], result["failed"]
            wait_until_enforced(admin, len(wanted))
        finally:
            admin.close()
        yield secure
    finally:
        private.down(purge=True)  # its store's objects live in memory (/dev/shm)


def wait_until_enforced(admin: KafkaAdminClient, count: int) -> None:
    """The broker applies new ACLs from the metadata log a moment after they commit."""
    every = ACLFilter(
        None, None, ACLOperation.ANY, ACLPermissionType.ANY,
        ResourcePatternFilter(ResourceType.ANY, None, ACLResourcePatternType.ANY),
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while len(admin.describe_acls(every)[0]) < count:
        assert time.monotonic() < deadline, "the broker did not apply the ACLs within 30 s"
        time.sleep(0.2)


def produce(settings: KafkaSettings, topic: str, value: bytes) -> None:
    with kafka_producer(settings, max_block_ms=10_000) as producer:
        producer.send(topic, key=b"k", value=value).get(timeout=15)


def consume_one(settings: KafkaSettings, group: str, topic: str, value: bytes) -> None:
    consumer = kafka_consumer(settings, group, topic)
    try:
        for _ in range(60):
            for records in consumer.poll(timeout_ms=500).values():
                if any(record.value == value for record in records):
                    consumer.commit()
                    return
        raise AssertionError(f"{value!r} not consumed from {topic} by group {group}")
    finally:
        consumer.close()


def test_each_worker_reads_and_writes_its_own_topics(secured: Secured) -> None:
    processor = secured.settings("credstream-processor")
    signer = secured.settings("credstream-signer")
    renderer = secured.settings("credstream-renderer")
    request = f"request-{uuid.uuid4()}".encode()
    produce(processor, TOPICS.requests.name, request)
    consume_one(signer, "credstream-signer", TOPICS.requests.name, request)
    issued = f"issued-{uuid.uuid4()}".encode()
    produce(signer, TOPICS.issued.name, issued)
    consume_one(renderer, "credstream-renderer", TOPICS.issued.name, issued)
    engine_event = f"event-{uuid.uuid4()}".encode()
    produce(secured.settings("credstream-engine"), TOPICS.assessments.name, engine_event)
    consume_one(processor, "credstream-processor", TOPICS.assessments.name, engine_event)


@pytest.mark.parametrize(
    ("user", "topic"),
    [
        ("credstream-processor", TOPICS.issued.name),  # only the signer issues
        ("credstream-renderer", TOPICS.issued.name),
        ("credstream-engine", TOPICS.requests.name),  # engines cannot skip the criteria
        ("credstream-signer", TOPICS.status.name),  # revocation is the operators' call
    ],
)
def test_writes_outside_a_principals_grants_are_refused(
    secured: Secured, user: str, topic: str
) -> None:
    with pytest.raises(TopicAuthorizationFailedError):
        produce(secured.settings(user), topic, b"forged")


def test_a_consumer_cannot_join_another_workers_group(secured: Secured) -> None:
    consumer = kafka_consumer(
        secured.settings("credstream-renderer"), "credstream-signer", TOPICS.issued.name
    )
    try:
        with pytest.raises(GroupAuthorizationFailedError):
            for _ in range(20):
                consumer.poll(timeout_ms=500)
    finally:
        consumer.close()


def test_faust_credentials_connect_aiokafka_with_the_same_grants(secured: Secured) -> None:
    from aiokafka import AIOKafkaProducer
    from aiokafka.errors import TopicAuthorizationFailedError as AioTopicAuthorizationFailed

    processor = secured.settings("credstream-processor")

    async def send(topic: str) -> Any:
        auth = credentials_to_aiokafka_auth(processor.faust_credentials())
        producer = AIOKafkaProducer(
            bootstrap_servers=processor.bootstrap_servers, request_timeout_ms=10_000, **auth
        )
        await producer.start()
        try:
            return await producer.send_and_wait(topic, b"from-faust")
        finally:
            await producer.stop()

    assert asyncio.run(send(TOPICS.requests.name)).topic == TOPICS.requests.name
    with pytest.raises(AioTopicAuthorizationFailed):
        asyncio.run(send(TOPICS.issued.name))


def test_a_wrong_password_fails_authentication(
    secured: Secured, caplog: pytest.LogCaptureFixture
) -> None:
    from aiokafka import AIOKafkaProducer
    from aiokafka.errors import KafkaConnectionError

    wrong = secured.settings("credstream-signer", password="not-the-password")

    async def connect() -> None:
        auth = credentials_to_aiokafka_auth(wrong.faust_credentials())
        producer = AIOKafkaProducer(bootstrap_servers=wrong.bootstrap_servers, **auth)
        try:
            await producer.start()
        finally:
            await producer.stop()

    # aiokafka reports the broker's answer to the SCRAM exchange, then gives up bootstrapping.
    with caplog.at_level(logging.ERROR, logger="aiokafka"), pytest.raises(KafkaConnectionError):
        asyncio.run(connect())
    said = [r.getMessage() for r in caplog.records]
    assert any(
        "SaslAuthenticationFailed" in m
        and "invalid credentials with SASL mechanism SCRAM-SHA-512" in m
        for m in said
    ), said


def test_a_client_without_credentials_is_refused(secured: Secured) -> None:
    refusal = "Unexpected Kafka request of type METADATA during SASL handshake"
    before = secured.broker_log.read_text().count(refusal)
    plain = KafkaSettings(bootstrap_servers=secured.stack.bootstrap_servers())
    with pytest.raises(KafkaTimeoutError, match="Unable to bootstrap"):
        KafkaProducer(**plain.client_options(), bootstrap_timeout_ms=4000).close()
    # The broker says why it closed the connection: no SASL handshake, no requests.
    assert secured.broker_log.read_text().count(refusal) > before


def test_the_lag_scaler_reads_offsets_but_no_record(secured: Secured) -> None:
    marker = f"lag-{uuid.uuid4()}".encode()
    produce(secured.settings("credstream-processor"), TOPICS.requests.name, marker)
    consume_one(
        secured.settings("credstream-signer"), "credstream-signer", TOPICS.requests.name, marker
    )
    keda = secured.settings("credstream-keda")
    admin = KafkaAdminClient(**keda.client_options())
    try:
        committed = admin.list_group_offsets("credstream-signer")["credstream-signer"]
    finally:
        admin.close()
    assert {tp.topic for tp in committed} == {TOPICS.requests.name}
    assert sum(offset.offset for offset in committed.values()) > 0
    # Reading records needs Read: refused, with a group or without one.
    with pytest.raises(GroupAuthorizationFailedError):
        consume_one(keda, "credstream-signer", TOPICS.requests.name, marker)
    reader = kafka_consumer(keda, None)
    try:
        reader.assign([TopicPartition(TOPICS.requests.name, p) for p in range(6)])
        with pytest.raises(TopicAuthorizationFailedError):
            for _ in range(20):
                reader.poll(timeout_ms=500)
    finally:
        reader.close()


def test_the_renderer_reads_issuances_backlog_but_no_record(secured: Secured) -> None:
    renderer = secured.settings("credstream-renderer")
    # (group, topic, the principal that writes the topic): the issuing stages.
    stages = [
        ("credstream-processor", TOPICS.assessments.name, "credstream-engine"),
        ("credstream-signer", TOPICS.requests.name, "credstream-processor"),
    ]
    for group, topic, writer in stages:
        marker = f"backlog-{uuid.uuid4()}".encode()
        produce(secured.settings(writer), topic, marker)
        consume_one(secured.settings(group), group, topic, marker)
        # The lookup the renderer's yield makes each second (credstream.roots.renderer).
        with OffsetWatch(renderer) as watch:
            committed, end = watch.progress(group, topic)
        assert 0 < committed <= end, group
        with pytest.raises(GroupAuthorizationFailedError):
            consume_one(renderer, group, topic, marker)
