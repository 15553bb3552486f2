"""Key custody settings (environment prefix ``CREDSTREAM_KEYS_``) and the KMS client."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from credstream.errors import ConfigurationError
from signers.keys._custody import Backend
from signers.keys._retry import RetryPolicy, TokenBucket

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient

PASSPHRASE_VARIABLE = "CREDSTREAM_KEYS_PASSPHRASE"  # noqa: S105 - a variable name, not a secret


class KeySettings(BaseSettings):
    """Where keys are and how to open them. Environment prefix ``CREDSTREAM_KEYS_``."""

    model_config = SettingsConfigDict(env_prefix="CREDSTREAM_KEYS_", frozen=True)

    keyring_dir: Path = Path(".credstream/keys")
    # The tenant whose active key a signer process loads (load_signing_key).
    tenant: str | None = None
    # The backend of newly generated keys; opening a key uses the backend it was made with.
    backend: Backend = "local"
    # Encrypts local key files (scrypt + AES-GCM). Never logged: SecretStr.
    passphrase: SecretStr | None = None
    # KMS key that seals new kms-sealed keys (key id, ARN or alias).
    kms_key_id: str | None = None
    kms_endpoint_url: str | None = None
    kms_region: str = "us-east-1"
    # None: boto3's default credential chain (environment, profile, instance role).
    kms_access_key_id: str | None = None
    kms_secret_access_key: SecretStr | None = None
    # KMS allows about 300 Ed25519 Sign requests/s per account by default: this limit is
    # per process, so give each of N signer processes quota / N.
    kms_signs_per_second: float = Field(default=300.0, gt=0)
    # How long one KMS operation (the startup Decrypt, one Sign) keeps retrying.
    kms_retry_budget_seconds: float = Field(default=30.0, gt=0)

    def require_passphrase(self) -> SecretStr:
        if self.passphrase is None or not self.passphrase.get_secret_value():
            raise ConfigurationError(
                f"{PASSPHRASE_VARIABLE} is not set: local key files are encrypted with it"
            )
        return self.passphrase

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(budget_seconds=self.kms_retry_budget_seconds)

    def rate_limiter(self) -> TokenBucket:
        return TokenBucket(self.kms_signs_per_second)


def kms_client(settings: KeySettings) -> KMSClient:
    """A KMS client without botocore's own retries: ``call_with_retry`` owns the budget."""
    import boto3
    from botocore.config import Config

    secret = settings.kms_secret_access_key
    return boto3.client(
        "kms",
        endpoint_url=settings.kms_endpoint_url,
        region_name=settings.kms_region,
        aws_access_key_id=settings.kms_access_key_id,
        aws_secret_access_key=secret.get_secret_value() if secret else None,
        config=Config(
            retries={"total_max_attempts": 1},
            connect_timeout=3,
            read_timeout=10,
            max_pool_connections=32,
        ),
    )
