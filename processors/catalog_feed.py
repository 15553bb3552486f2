"""Every worker's view of the achievement catalogs, hot-reloaded from Kafka.

Reads the compacted ``achievement.catalog.v1`` topic from the beginning (no consumer
group: every process sees every tenant), blocks start-up until it has read up to the end
offsets seen at start, then keeps following it in a daemon thread. A tombstone removes a
tenant. A record that does not validate is logged and skipped: the last good catalog of
that tenant stays in force.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from credstream.errors import CredstreamError, InvalidInputError
from processors.catalog import Achievement, Issuer, TenantCatalog, decode_catalog
from schemas.topics import ACHIEVEMENT_CATALOG

log = logging.getLogger("credstream.catalog")


class UnknownAchievementError(InvalidInputError):
    """A record names a tenant or achievement version the catalog does not have."""


class CatalogFeed:
    """The latest catalog of every tenant; reads are lock-free (copy on write)."""

    def __init__(
        self,
        consumer_factory: Callable[[], KafkaConsumer],
        topic: str = ACHIEVEMENT_CATALOG.name,
        on_change: Callable[[dict[str, TenantCatalog]], None] | None = None,
    ) -> None:
        self._consumer_factory = consumer_factory
        self._topic = topic
        self._on_change = on_change
        self._catalogs: dict[str, TenantCatalog] = {}
        self._achievements: dict[tuple[str, str, int], tuple[Achievement, Issuer]] = {}
        self._loaded = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None

    # -- reading --------------------------------------------------------------------
    def catalogs(self) -> dict[str, TenantCatalog]:
        return self._catalogs

    def achievement(self, tenant: str, key: str, version: int) -> tuple[Achievement, Issuer]:
        found = self._achievements.get((tenant, key, version))
        if found is None:
            if tenant not in self._catalogs:
                raise UnknownAchievementError(f"unknown tenant {tenant!r}: no catalog published")
            raise UnknownAchievementError(
                f"tenant {tenant!r} has no achievement {key!r} version {version}"
            )
        return found

    def apply(self, tenant: str, catalog: TenantCatalog | None) -> None:
        """Install (or with None remove) one tenant's catalog."""
        catalogs = dict(self._catalogs)
        if catalog is None:
            catalogs.pop(tenant, None)
        else:
            catalogs[tenant] = catalog
        self._achievements = {
            (c.tenant, a.key, a.version): (a, c.issuer)
            for c in catalogs.values()
            for a in c.achievements
        }
        self._catalogs = catalogs
        if self._on_change is not None:
            self._on_change(catalogs)

    # -- following the topic --------------------------------------------------------
    def start(self, timeout: float = 60.0) -> None:
        self._thread = threading.Thread(target=self._follow, name="catalog-feed", daemon=True)
        self._thread.start()
        if not self._loaded.wait(timeout):
            raise CredstreamError(f"the catalog topic {self._topic} was not read within {timeout}s")
        if self._failure is not None:
            raise CredstreamError(f"reading the catalog topic failed: {self._failure}")

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _follow(self) -> None:
        try:
            consumer = self._consumer_factory()
            partitions = [
                TopicPartition(self._topic, p)
                for p in sorted(consumer.partitions_for_topic(self._topic) or [])
            ]
            if not partitions:
                raise CredstreamError(f"the catalog topic {self._topic} does not exist")
            consumer.assign(partitions)
            consumer.seek_to_beginning(*partitions)
            ends = consumer.end_offsets(partitions)
            while not self._stopped.is_set():
                for records in consumer.poll(timeout_ms=500).values():
                    for record in records:
                        self._record(record)
                if not self._loaded.is_set() and all(
                    consumer.position(tp) >= end for tp, end in ends.items()
                ):
                    self._loaded.set()
            consumer.close()
        except Exception as error:
            self._failure = error
            self._loaded.set()

    def _record(self, record: Any) -> None:
        tenant = (record.key or b"").decode("utf-8", "replace")
        if record.value is None:
            self.apply(tenant, None)
            return
        try:
            catalog = decode_catalog(record.value, f"{record.topic}@{record.offset}")
        except InvalidInputError as error:
            log.error("catalog record for %r refused, keeping the last good one: %s", tenant, error)
            return
        self.apply(catalog.tenant, catalog)
