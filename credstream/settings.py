"""Settings shared by every process: where Kafka and the object store are.

Each process composes these into its own frozen pydantic-settings class (one per
process); every option can be set from the environment with the documented prefix.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from credstream.errors import ConfigurationError
from schemas.topics import Topology

if TYPE_CHECKING:
    from faust.auth import Credentials


class KafkaSettings(BaseSettings):
    """How to reach Kafka. Environment prefix ``CREDSTREAM_KAFKA_``."""

    model_config = SettingsConfigDict(env_prefix="CREDSTREAM_KAFKA_", frozen=True)

    bootstrap_servers: str = "127.0.0.1:9092"
    # SASL_SSL with SCRAM-SHA-512 in production (deploy/security/kafka-acls.md).
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    # CA bundle that signed the brokers' certificates (SSL, SASL_SSL); None: the system's.
    ssl_cafile: str | None = None
    client_id: str = "credstream"
    # Prepended to every topic name, so several pipelines can share a cluster.
    topic_prefix: str = ""
    # How long a silent member keeps its partitions (a crashed worker's partitions move
    # after this): shorter fails over faster, longer rides out pauses. None: the client's
    # default (45 s). The brokers accept 6 s to 30 min by default.
    session_timeout_ms: int | None = Field(default=None, ge=6000, le=1_800_000)

    @model_validator(mode="after")
    def _credentials_complete(self) -> KafkaSettings:
        """A SASL protocol without its mechanism or credentials fails at start, by name."""
        if self.security_protocol.startswith("SASL_"):
            missing = [
                f"CREDSTREAM_KAFKA_{field.upper()}"
                for field in ("sasl_mechanism", "sasl_username", "sasl_password")
                if not getattr(self, field)
            ]
            if missing:
                raise ConfigurationError(
                    f"CREDSTREAM_KAFKA_SECURITY_PROTOCOL={self.security_protocol} needs "
                    f"{', '.join(missing)}"
                )
        elif self.sasl_mechanism:
            raise ConfigurationError(
                f"CREDSTREAM_KAFKA_SASL_MECHANISM is set but CREDSTREAM_KAFKA_SECURITY_PROTOCOL="
                f"{self.security_protocol}: use SASL_SSL (or SASL_PLAINTEXT on a trusted network)"
            )
        return self

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

    def faust_credentials(self) -> Credentials | None:
        """Faust's ``broker_credentials`` for the same connection (aiokafka underneath)."""
        import ssl

        from faust.auth import SASLCredentials, SSLCredentials

        context = None
        if self.security_protocol in ("SSL", "SASL_SSL"):
            context = ssl.create_default_context(cafile=self.ssl_cafile)
        if self.security_protocol.startswith("SASL_"):
            password = self.sasl_password.get_secret_value() if self.sasl_password else None
            return SASLCredentials(
                username=self.sasl_username,
                password=password,
                mechanism=self.sasl_mechanism,
                ssl_context=context,  # None: SASL_PLAINTEXT; a context: SASL_SSL
            )
        if context is not None:
            return SSLCredentials(context)
        return None


class S3Settings(BaseSettings):
    """How to reach the object store. Environment prefix ``CREDSTREAM_S3_``."""

    model_config = SettingsConfigDict(env_prefix="CREDSTREAM_S3_", frozen=True)

    endpoint_url: str | None = "http://127.0.0.1:7070"
    region: str = "us-east-1"
    bucket: str = "credentials"
    access_key_id: str = "credstream"
    secret_access_key: SecretStr = SecretStr("credstream-dev-secret")
