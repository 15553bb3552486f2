"""Run the whole pipeline on one host as separate worker processes.

The demo, the end-to-end benchmark and the system tests use this: it prepares a
topology (topics, a published catalog, the tenant's signing key, an engine key), starts
``credstream <worker>`` processes with the right environment, and watches consumer
groups. It is the same workers a provider deploys; only the supervision is local.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from credstream.clients import ensure_topics, kafka_producer
from credstream.errors import CredstreamError
from credstream.observability import OffsetWatch
from credstream.settings import KafkaSettings, S3Settings
from processors.catalog import AssessmentRule, TenantCatalog, encode_catalog
from producers import CourseSpec, EngineRegistry
from schemas.topics import Topology
from signers.keys import KeySettings, generate_key, read_keyring

WORKERS = ("processor", "signer", "renderer", "status-updater")


@dataclass(frozen=True)
class LocalPipeline:
    """One pipeline's settings on the local stack: topics, tenant, keys, state folders."""

    kafka: KafkaSettings
    store: S3Settings
    catalog: TenantCatalog
    home: Path
    passphrase: str
    engine_id: str = "demo-engine"
    public_base_url: str = ""
    # False: every worker picks a free metrics port (tests); True: each stage's default.
    default_metrics_ports: bool = False
    extra_env: Mapping[str, str] = field(default_factory=dict)

    @property
    def topology(self) -> Topology:
        return self.kafka.topology()

    @property
    def tenant(self) -> str:
        return self.catalog.tenant

    @property
    def keys(self) -> KeySettings:
        return KeySettings(keyring_dir=self.home / "keys", passphrase=self.passphrase)

    @property
    def engines_dir(self) -> Path:
        return self.home / "engines"

    def env(self, **extra: str) -> dict[str, str]:
        """The environment a worker of this pipeline runs with."""
        base_url = self.public_base_url or f"{self.store.endpoint_url}/{self.store.bucket}"
        ports = {} if self.default_metrics_ports else {"CREDSTREAM_METRICS_PORT": "0"}
        return {
            **os.environ,
            "CREDSTREAM_KAFKA_BOOTSTRAP_SERVERS": self.kafka.bootstrap_servers,
            "CREDSTREAM_KAFKA_TOPIC_PREFIX": self.kafka.topic_prefix,
            "CREDSTREAM_S3_ENDPOINT_URL": self.store.endpoint_url or "",
            "CREDSTREAM_S3_BUCKET": self.store.bucket,
            "CREDSTREAM_KEYS_KEYRING_DIR": str(self.home / "keys"),
            "CREDSTREAM_KEYS_PASSPHRASE": self.passphrase,
            **ports,
            "CREDSTREAM_PROCESSOR_ENGINES_DIR": str(self.engines_dir),
            # Faust's RocksDB files belong to one topology's changelog topics.
            "CREDSTREAM_PROCESSOR_DATA_DIR": str(
                self.home / "processor" / (self.kafka.topic_prefix or "default")
            ),
            "CREDSTREAM_SIGNER_PUBLIC_BASE_URL": base_url,
            **self.extra_env,
            **extra,
        }


def prepare(pipeline: LocalPipeline) -> None:
    """Topics, the published catalog, the tenant's signing key and the engine key."""
    ensure_topics(pipeline.kafka, pipeline.topology.all())
    with kafka_producer(pipeline.kafka) as producer:
        producer.send(
            pipeline.topology.catalog.name,
            key=pipeline.tenant.encode(),
            value=encode_catalog(pipeline.catalog),
        )
        producer.flush()
    if read_keyring(pipeline.keys, pipeline.tenant).active is None:
        generate_key(
            pipeline.keys, pipeline.tenant, now=datetime.now(UTC), did=pipeline.catalog.issuer.id
        )
    registry = EngineRegistry(pipeline.engines_dir)
    if pipeline.engine_id not in {e.engine_id for e in registry.engines()}:
        registry.add(pipeline.engine_id, datetime.now(UTC))


def catalog_courses(catalog: TenantCatalog) -> tuple[CourseSpec, ...]:
    """The courses a catalog's assessment rules name (for the synthetic workload)."""
    found: dict[str, set[str]] = {}

    def visit(rule: Any) -> None:
        if isinstance(rule, AssessmentRule):
            found.setdefault(rule.course, set()).add(rule.assessment)
        for name in ("all_of", "any_of", "of"):
            for child in getattr(rule, name, ()):
                visit(child)

    for achievement in catalog.achievements:
        visit(achievement.criteria.rule)
    return tuple(CourseSpec(course, tuple(sorted(ids))) for course, ids in sorted(found.items()))


def worker_name(stage: str, replica: int) -> str:
    return stage if replica == 1 else f"{stage}-{replica}"


class Worker:
    """A ``credstream STAGE`` process of a pipeline, named ``STAGE`` (``STAGE-N`` for the
    Nth replica of a stage)."""

    def __init__(
        self,
        pipeline: LocalPipeline,
        stage: str,
        log: Path | None = None,
        niceness: int = 0,
        module: Sequence[str] | None = None,
        replica: int = 1,
        **env: str,
    ) -> None:
        """``module``: ``python -m`` arguments in place of ``credstream STAGE``."""
        self.stage = stage
        self.name = worker_name(stage, replica)
        output = log.open("ab") if log is not None else None
        command = module or ["credstream", stage, "--log-level", "warning"]
        environment = pipeline.env(**env)
        if replica > 1:  # a processor's state folder (RocksDB) belongs to one process
            environment["CREDSTREAM_PROCESSOR_DATA_DIR"] += f"-{replica}"
        self.process = subprocess.Popen(
            ["nice", "-n", str(niceness), sys.executable, "-m", *command],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT if output else None,
        )
        if output is not None:
            output.close()

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def cpu_seconds(self) -> float:
        """CPU (user + system) of the process and every descendant (signing workers)."""
        return tree_cpu_seconds(self.pid)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        self.process.wait()

    def stop(self, timeout: float = 20.0) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU of ``root`` and its live descendants, plus reaped children."""
    return cpu_seconds_of_trees({"": [root]})[""]


def cpu_seconds_of_trees(roots: Mapping[str, Sequence[int]]) -> dict[str, float]:
    """:func:`tree_cpu_seconds` of each named group of processes (a stage's replicas),
    summed per name, from one read of ``/proc`` (the benchmark samples every half second)."""
    children: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) is not None:
            stats[int(entry.name)] = fields
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    ticks = os.sysconf("SC_CLK_TCK")
    totals: dict[str, float] = {}
    for name, pids in roots.items():
        tree, frontier = set(pids), list(pids)
        while frontier:
            for child in children.get(frontier.pop(), ()):
                if child not in tree:
                    tree.add(child)
                    frontier.append(child)
        total = 0
        for pid in tree:
            fields = stats.get(pid)
            if fields is not None:
                total += sum(int(fields[i]) for i in (11, 12, 13, 14))
        totals[name] = total / ticks
    return totals


# Off the critical path: on a shared host the renderer only gets CPU the issuing stages
# leave (it may lag under a burst; it never delays issuance).
NICENESS = {"renderer": 15}


@contextlib.contextmanager
def running(
    pipeline: LocalPipeline,
    stages: Sequence[str],
    logs: Path | None = None,
    replicas: Mapping[str, int] | None = None,
    **env: str,
) -> Iterator[dict[str, Worker]]:
    """The stages' workers, by name: one each, or ``replicas[stage]``."""
    workers: dict[str, Worker] = {}
    try:
        for stage in stages:
            for replica in range(1, (replicas or {}).get(stage, 1) + 1):
                name = worker_name(stage, replica)
                log = logs / f"{name}.log" if logs is not None else None
                workers[name] = Worker(
                    pipeline, stage, log, NICENESS.get(stage, 0), replica=replica, **env
                )
        yield workers
    finally:
        for worker in workers.values():
            worker.stop()


def group_progress(kafka: KafkaSettings, group: str, topic: str) -> tuple[int, int]:
    """(committed, end) offsets of ``group`` on ``topic``, summed over partitions: one
    lookup (an :class:`OffsetWatch` for repeated ones)."""
    with OffsetWatch(kafka) as watch:
        return watch.progress(group, topic)


def read_all(kafka: KafkaSettings, topic: str, want: int = 0, seconds: float = 90.0) -> list[Any]:
    """Every record of ``topic`` from the beginning, waiting until at least ``want``."""
    consumer = KafkaConsumer(
        bootstrap_servers=kafka.bootstrap_servers.split(","), enable_auto_commit=False,
        group_id=None,
    )  # fmt: skip
    partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    records: list[Any] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for batch in consumer.poll(timeout_ms=500).values():
            records.extend(batch)
        ends = consumer.end_offsets(partitions)
        if len(records) >= want and all(consumer.position(tp) >= ends[tp] for tp in partitions):
            break
    consumer.close()
    return records


def wait_until(
    condition: Callable[[], bool],
    seconds: float = 90.0,
    what: str = "condition",
    alive: Sequence[Worker] = (),
) -> None:
    """Poll ``condition``; fail early, naming the worker, if one of ``alive`` exits."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        for worker in alive:
            if not worker.alive():
                raise CredstreamError(
                    f"worker {worker.name} exited ({worker.process.returncode}) before {what}"
                )
        time.sleep(0.25)
    raise CredstreamError(f"timed out after {seconds:.0f}s waiting for {what}")
