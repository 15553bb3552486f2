"""Where each worker serves its metrics, and what ``credstream top`` scrapes."""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# One port per worker type, so all of them can run on one host (the local stack).
DEFAULT_PORTS: Final = MappingProxyType(
    {"processor": 9401, "signer": 9402, "renderer": 9403, "status-updater": 9404}
)


class MetricsSettings(BaseSettings):
    """The metrics endpoint of a worker. Environment prefix ``CREDSTREAM_METRICS_``."""

    model_config = SettingsConfigDict(env_prefix="CREDSTREAM_METRICS_", frozen=True)

    # Loopback by default; containers set 0.0.0.0 so that Prometheus and probes reach it.
    host: str = "127.0.0.1"
    # None: the worker type's default port (DEFAULT_PORTS); 0: any free port.
    port: int | None = Field(default=None, ge=0, le=65535)
    readiness_ttl_seconds: float = Field(default=2.0, ge=0)

    def port_for(self, stage: str) -> int:
        if self.port is not None:
            return self.port
        return DEFAULT_PORTS.get(stage, 0)


def _default_targets() -> str:
    return ",".join(f"http://127.0.0.1:{port}/metrics" for port in DEFAULT_PORTS.values())


class TopSettings(BaseSettings):
    """What ``credstream top`` watches. Environment prefix ``CREDSTREAM_TOP_``."""

    model_config = SettingsConfigDict(env_prefix="CREDSTREAM_TOP_", frozen=True)

    # Comma-separated /metrics URLs of the workers.
    targets: str = Field(default_factory=_default_targets)
    interval_seconds: float = Field(default=1.0, gt=0)
    timeout_seconds: float = Field(default=2.0, gt=0)

    def target_list(self) -> list[str]:
        return [url.strip() for url in self.targets.split(",") if url.strip()]
