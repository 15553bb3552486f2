"""Kafka security: the documented ACLs are acls.yaml and fit the topology; SASL settings
fail early by name and give both client libraries the same connection."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml
from pydantic import SecretStr

from credstream.errors import ConfigurationError
from credstream.settings import KafkaSettings
from schemas.topics import Topology

SECURITY = Path(__file__).resolve().parents[2] / "deploy" / "security"
PRINCIPALS = yaml.safe_load((SECURITY / "acls.yaml").read_text())["principals"]


def grants_in_yaml() -> set[tuple[str, str, str]]:
    return {
        (principal, kind, name)
        for principal, granted in PRINCIPALS.items()
        for kind, names in granted.items()
        for name in names
    }


def grants_in_doc() -> set[tuple[str, str, str]]:
    text = (SECURITY / "kafka-acls.md").read_text().replace("\\\n", " ")
    grants = set()
    for line in text.splitlines():
        if not line.startswith("$ACLS "):
            continue
        words = shlex.split(line)
        options: dict[str, list[str]] = {}
        for flag, value in zip(words[1::2], words[2::2], strict=False):
            options.setdefault(flag, []).append(value)
        principal = options["--allow-principal"][0].removeprefix("User:")
        operation = options["--operation"][0]
        prefixed = options.get("--resource-pattern-type") == ["prefixed"]
        for topic in options.get("--topic", []):
            kinds = {"Read": "read", "Write": "write", "Describe": "describe"}
            grants.add((principal, "prefixed" if prefixed else kinds[operation], topic))
        for group in options.get("--group", []):
            kind = {"Read": "groups", "Describe": "describe_groups"}[operation]
            grants.add((principal, kind, group))
    return grants


def test_the_documented_commands_grant_exactly_acls_yaml() -> None:
    assert grants_in_doc() == grants_in_yaml()


def test_every_granted_topic_is_a_pipeline_topic() -> None:
    names = {topic.name for topic in Topology().all()}
    for principal, kind, name in grants_in_yaml():
        if kind in ("read", "write", "describe"):
            assert name in names, (principal, name)


def test_only_the_signer_writes_credentials_and_processors_only_request_them() -> None:
    issued, requested = Topology().issued.name, Topology().requests.name
    writers = {p for p, kind, name in grants_in_yaml() if kind == "write" and name == issued}
    assert writers == {"credstream-signer"}
    processor = {name for p, kind, name in grants_in_yaml() if p == "credstream-processor"}
    assert requested in processor and issued not in processor
    # No principal may touch another's Faust topics through a prefix.
    prefixes = [n for _, kind, n in grants_in_yaml() if kind == "prefixed"]
    assert all(re.fullmatch(r"credstream-[a-z-]+-", p) for p in prefixes)


def test_granted_groups_are_the_workers_group_ids() -> None:
    from credstream.roots import processor, renderer, signer, status_updater

    workers = {processor.APP_ID, signer.GROUP, renderer.GROUP, status_updater.GROUP}
    groups = {name for _, kind, name in grants_in_yaml() if kind == "groups"}
    assert groups == workers
    assert groups == {n for _, kind, n in grants_in_yaml() if kind == "describe_groups"}
    assert ("credstream-processor", "prefixed", f"{processor.APP_ID}-") in grants_in_yaml()


def test_sasl_without_its_credentials_fails_at_start_naming_them() -> None:
    with pytest.raises(ConfigurationError, match="CREDSTREAM_KAFKA_SASL_PASSWORD") as raised:
        KafkaSettings(
            security_protocol="SASL_SSL", sasl_mechanism="SCRAM-SHA-512", sasl_username="u"
        )
    assert "CREDSTREAM_KAFKA_SASL_USERNAME" not in str(raised.value)
    with pytest.raises(ConfigurationError, match="CREDSTREAM_KAFKA_SECURITY_PROTOCOL=PLAINTEXT"):
        KafkaSettings(sasl_mechanism="SCRAM-SHA-512")


def test_faust_credentials_are_the_same_connection_as_kafka_python() -> None:
    from faust.types.auth import AuthProtocol, SASLMechanism

    scram = KafkaSettings(
        security_protocol="SASL_SSL",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_username="credstream-processor",
        sasl_password=SecretStr("s3cret-pw"),
    )
    credentials = scram.faust_credentials()
    assert credentials is not None
    assert credentials.protocol is AuthProtocol.SASL_SSL  # type: ignore[attr-defined]
    assert credentials.mechanism is SASLMechanism.SCRAM_SHA_512  # type: ignore[attr-defined]
    assert credentials.username == "credstream-processor"  # type: ignore[attr-defined]
    assert "s3cret-pw" not in repr(credentials) and "s3cret-pw" not in repr(scram)
    options = scram.client_options()
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_password"] == "s3cret-pw"
    assert KafkaSettings().faust_credentials() is None
    tls_only = KafkaSettings(security_protocol="SSL").faust_credentials()
    assert tls_only is not None and tls_only.protocol is AuthProtocol.SSL  # type: ignore[attr-defined]
