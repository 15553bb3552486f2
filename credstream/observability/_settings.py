"""Where each worker serves its metrics, and what ``credstream top`` scrapes."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Final

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from credstream.observability._targets import target_urls

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
    # A folder where the worker announces its address (Prometheus file_sd format), so that
    # workers on free ports can be found by Prometheus and `credstream top`.
    targets_dir: Path | None = None

    def port_for(self, stage: str) -> int:
        if self.port is not None:
            return self.port
        return DEFAULT_PORTS.get(stage, 0)


class TopSettings(BaseSettings):
    """What ``credstream top`` watches. Environment prefix ``CREDSTREAM_TOP_``."""

    model_config = SettingsConfigDict(env_prefix="CREDSTREAM_TOP_", frozen=True)

    # Comma-separated /metrics URLs of the workers.
    targets: str = ""
    # Also every worker announced in this folder (their CREDSTREAM_METRICS_TARGETS_DIR).
    targets_dir: Path | None = None
    interval_seconds: float = Field(default=1.0, gt=0)
    timeout_seconds: float = Field(default=2.0, gt=0)

    def urls(self, explicit: Sequence[str] = ()) -> list[str]:
        """``explicit`` URLs, else ``targets``; plus the announced workers (read anew on
        every call: workers come and go); with neither, the local workers' default ports."""
        chosen = list(explicit) or [url.strip() for url in self.targets.split(",") if url.strip()]
        if self.targets_dir is not None:
            return chosen + target_urls(self.targets_dir)
        return chosen or [f"http://127.0.0.1:{port}/metrics" for port in DEFAULT_PORTS.values()]
