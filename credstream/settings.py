"""Settings shared by every process: where Kafka and the object store are.

Each process composes these into its own frozen pydantic-settings class (one per
process); every option can be set from the environment with the documented prefix.
"""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from schemas.topics import Topology


class KafkaSettings(BaseSettings):
    """How to reach Kafka. Environment prefix ``CREDSTREAM_KAFKA_``."""

    model_config = SettingsConfigDict(env_prefix="CREDSTREAM_KAFKA_", frozen=True)

    bootstrap_servers: str = "127.0.0.1:9092"
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: str | None = None
    client_id: str = "credstream"
    # Prepended to every topic name, so several pipelines can share a cluster.
    topic_prefix: str = ""

    def topology(self) -> Topology:
        return Topology(self.topic_prefix)

    def client_options(self) -> dict[str, object]:
        """Keyword arguments common to kafka-python clients."""
        options: dict[str, object] = {
            "bootstrap_servers": self.bootstrap_servers.split(","),
            "security_protocol": self.security_protocol,
            "client_id": self.client_id,
        }
        if self.sasl_mechanism:
            options["sasl_mechanism"] = self.sasl_mechanism
            options["sasl_plain_username"] = self.sasl_username
            options["sasl_plain_password"] = (
                self.sasl_password.get_secret_value() if self.sasl_password else None
            )
        if self.ssl_cafile:
            options["ssl_cafile"] = self.ssl_cafile
        return options


class S3Settings(BaseSettings):
    """How to reach the object store. Environment prefix ``CREDSTREAM_S3_``."""

    model_config = SettingsConfigDict(env_prefix="CREDSTREAM_S3_", frozen=True)

    endpoint_url: str | None = "http://127.0.0.1:7070"
    region: str = "us-east-1"
    bucket: str = "credentials"
    access_key_id: str = "credstream"
    secret_access_key: SecretStr = SecretStr("credstream-dev-secret")
