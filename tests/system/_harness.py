"""What every fault scenario shares: sizes, worker crews, waits, group resets and the audit.

The audit is the pass line of every scenario: the awards ``credstream evaluate`` computes
from the same events against what the pipeline announced and what the store holds.

- lost: an expected award that is not both stored and announced;
- duplicates: an award with more than one distinct credential (stored or announced);
- unexpected: a stored or announced credential that no expected award accounts for;
- mismatched: an announcement or stored credential whose award time differs from the
  oracle's (a credential is a function of the award, so its bytes must be too);
- raw duplicate notifications: the same credential announced more than once (allowed,
  at-least-once notifications; consumers dedupe on the credential id), reported;
- every stored credential verifies with the tenant key: all on the fast canonicalizer,
  a sample on the pyld reference (the definitive check), and any fast failure again on
  the reference;
- every batch manifest is consistent, and together the manifests list every credential.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from credstream.benchmarks import BURST_ASSESSMENT, BURST_COURSE
from credstream.clients import s3_client
from credstream.errors import CredstreamError
from credstream.pipeline import (
    LocalPipeline,
    Worker,
    catalog_courses,
    group_progress,
    read_all,
)
from credstream.roots.processor import processor_group
from credstream.roots.renderer import renderer_group
from credstream.roots.signer import signer_group
from credstream.roots.status_updater import status_updater_group
from producers import Workload, cohort_completion, generate
from schemas.codec import Codec
from schemas.models import AssessmentCompleted, CredentialIssued, CredentialRequested
from signers.credential import xsd_datetime
from signers.keys import read_keyring
from signers.manifest import check_manifest, manifest_digest
from signers.multikey import public_key_from_multibase
from signers.proofs import RdfcReferenceCanonicalizer, default_canonicalizer, verify_proof

FULL = os.environ.get("CREDSTREAM_CHAOS", "").lower() == "full"


def sized(short: int | float, full: int | float) -> Any:
    """The short size inside ``make test``, the full one under ``make chaos``."""
    return full if FULL else short


def stage_groups(pipeline: LocalPipeline) -> dict[str, tuple[str, str]]:
    """Stage -> (consumer group, the topic it consumes)."""
    topology = pipeline.topology
    return {
        "processor": (processor_group(pipeline.kafka), topology.assessments.name),
        "signer": (signer_group(pipeline.kafka), topology.requests.name),
        "renderer": (renderer_group(pipeline.kafka), topology.issued.name),
        "status-updater": (status_updater_group(pipeline.kafka), topology.status.name),
    }


def workload_events(
    pipeline: LocalPipeline, mixed: int, burst: int = 0, seed: int = 7, prefix: str = "m"
) -> list[AssessmentCompleted]:
    """``mixed`` events of the synthetic MOOC workload (retakes, duplicates, out of order),
    then a cohort of ``burst`` learners each completing an award with one event."""
    workload = Workload(
        courses=catalog_courses(pipeline.catalog), learners=max(50, mixed // 12),
        events=mixed, seed=seed, tenant_id=pipeline.tenant, engine_id=pipeline.engine_id,
        learner_prefix=f"{prefix}{seed}-",
    )  # fmt: skip
    events = list(generate(workload))
    if burst:
        cohort = Workload(
            courses=workload.courses, events=burst, seed=seed + 1, tenant_id=pipeline.tenant,
            engine_id=pipeline.engine_id, learner_prefix=f"b{prefix}{seed}-",
        )  # fmt: skip
        events += cohort_completion(cohort, BURST_COURSE, BURST_ASSESSMENT)
    return events


# -- processes ------------------------------------------------------------------------------
def descendants(root: int) -> list[int]:
    """Live descendants of ``root`` (signing pool workers, Faust threads are not processes)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat[1])
    found, frontier = [], [root]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent and pid not in found:
                found.append(pid)
                frontier.append(pid)
    return found


def rss_bytes(pid: int) -> int:
    """Resident memory of ``pid`` and its descendants."""
    total = 0
    for each in [pid, *descendants(pid)]:
        with contextlib.suppress(OSError, ValueError, IndexError):
            total += int(Path(f"/proc/{each}/statm").read_text().split()[1]) * os.sysconf(
                "SC_PAGE_SIZE"
            )
    return total


class Crew:
    """The worker processes of one scenario: start, stop, SIGKILL, SIGSTOP/SIGCONT.

    Workers of a kind are numbered (``processor-1``...); a restarted worker keeps its
    number, its log and (processors) its state folder, like a pod with a volume. ``close``
    leaves nothing running: graceful stop, then SIGKILL of every process tree.
    """

    def __init__(self, pipeline: LocalPipeline, **env: str) -> None:
        self.pipeline = pipeline
        # Short runs fail over in 10 s, not the clients' 45 s; full runs keep the default.
        self.env = ({} if FULL else {"CREDSTREAM_KAFKA_SESSION_TIMEOUT_MS": "10000"}) | env
        self.logs = pipeline.home / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.targets = pipeline.home / "targets"
        self.workers: dict[str, Worker] = {}
        self.expected_exits: set[int] = set()
        self.events: list[tuple[float, str, str]] = []
        self._started = time.monotonic()

    def __enter__(self) -> Crew:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _note(self, what: str, name: str) -> None:
        self.events.append((round(time.monotonic() - self._started, 1), what, name))

    def start(self, kind: str, name: str | None = None, **env: str) -> Worker:
        if name is None:
            number = 1
            while f"{kind}-{number}" in self.workers and self.workers[f"{kind}-{number}"].alive():
                number += 1
            name = f"{kind}-{number}"
        options = {**self.env, **env, "CREDSTREAM_METRICS_TARGETS_DIR": str(self.targets)}
        if kind == "processor":
            folder = self.pipeline.home / "processor" / name
            options.setdefault("CREDSTREAM_PROCESSOR_DATA_DIR", str(folder))
        worker = Worker(self.pipeline, kind, self._log(name), **options)
        self.workers[name] = worker
        self._note("start", name)
        return worker

    def live(self, kind: str | None = None) -> list[Worker]:
        return [
            w
            for n, w in self.workers.items()
            if w.alive() and (kind is None or n.rsplit("-", 1)[0] == kind)
        ]

    def name_of(self, worker: Worker) -> str:
        return next(n for n, w in self.workers.items() if w is worker)

    def kill(self, worker: Worker) -> None:
        """SIGKILL the worker and its pool processes: a crash, nothing flushed."""
        self.expected_exits.add(worker.pid)
        tree = descendants(worker.pid)
        worker.kill()
        for pid in tree:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self._note("SIGKILL", self.name_of(worker))

    def stop(self, worker: Worker, timeout: float = 60.0) -> None:
        self.expected_exits.add(worker.pid)
        self.thaw(worker)
        worker.stop(timeout=timeout)
        self._note("stop", self.name_of(worker))

    def freeze(self, worker: Worker) -> None:
        for pid in [worker.pid, *descendants(worker.pid)]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)
        self._note("SIGSTOP", self.name_of(worker))

    def thaw(self, worker: Worker) -> None:
        for pid in [worker.pid, *descendants(worker.pid)]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)

    def check(self) -> None:
        """Fail, with the log's tail, if a worker died that nobody stopped."""
        for name, worker in self.workers.items():
            if not worker.alive() and worker.pid not in self.expected_exits:
                tail = self.log_tail(name)
                raise CredstreamError(
                    f"worker {name} exited ({worker.process.returncode}) unexpectedly:\n{tail}"
                )

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self._log(name)
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def log_lines(self, needle: str, worker: Worker | None = None, after: int = 0) -> int:
        """How many log lines contain ``needle``: of every worker, or of ``worker`` past
        byte ``after`` of its log (a ``log_size`` taken earlier)."""
        paths = self.logs.glob("*.log") if worker is None else [self._log(self.name_of(worker))]
        return sum(
            path.read_bytes()[after:].decode(errors="replace").count(needle)
            for path in paths
            if path.exists()
        )

    def log_size(self, worker: Worker) -> int:
        """How many bytes ``worker`` has logged so far: a mark for ``log_lines``."""
        path = self._log(self.name_of(worker))
        return path.stat().st_size if path.exists() else 0

    def _log(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def metrics_url(self, worker: Worker) -> str | None:
        path = (
            self.targets / f"{_STAGE.get(self.name_of(worker).rsplit('-', 1)[0])}-{worker.pid}.json"
        )
        if not path.exists():
            return None
        return f"http://{json.loads(path.read_text())[0]['targets'][0]}"

    def close(self) -> None:
        for worker in self.workers.values():
            self.thaw(worker)
        for worker in self.workers.values():
            if worker.alive():
                self.expected_exits.add(worker.pid)
                tree = descendants(worker.pid)
                worker.stop(timeout=30)
                for pid in tree:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)


_STAGE = {
    "processor": "processor",
    "signer": "signer",
    "renderer": "renderer",
    "status-updater": "status_updater",
}


def scrape(url: str) -> dict[str, float]:
    """A worker's Prometheus text metrics as ``{'name{labels}': value}``."""
    import urllib.request

    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as response:
        text = response.read().decode()
    values: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            with contextlib.suppress(ValueError):
                values[name] = float(value)
    return values


def metric_sum(values: dict[str, float], name: str, **labels: str) -> float:
    total = 0.0
    for series, value in values.items():
        base = series.split("{", 1)[0]
        if base != name:
            continue
        if all(f'{k}="{v}"' in series for k, v in labels.items()):
            total += value
    return total


# -- waiting ---------------------------------------------------------------------------------
def wait(
    condition: Callable[[], bool], seconds: float, what: str, crew: Crew | None = None
) -> float:
    """Poll until ``condition``; fails naming ``what`` (or a dead worker). Returns seconds."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if condition():
            return time.monotonic() - start
        if crew is not None:
            crew.check()
        time.sleep(0.5)
    raise CredstreamError(f"timed out after {seconds:.0f}s waiting for {what}")


def _progress(pipeline: LocalPipeline, group: str, topic: str) -> tuple[int, int]:
    """group_progress, retried: while a broker is down a lookup may hit it first."""
    for attempt in range(30):
        try:
            return group_progress(pipeline.kafka, group, topic)
        except (KafkaError, OSError):
            if attempt == 29:
                raise
            time.sleep(1)
    raise AssertionError("unreachable")


def committed(pipeline: LocalPipeline, stage: str) -> tuple[int, int]:
    group, topic = stage_groups(pipeline)[stage]
    return _progress(pipeline, group, topic)


def topic_end(pipeline: LocalPipeline, topic: str) -> int:
    return _progress(pipeline, "credstream-chaos-observer", topic)[1]


def drained(pipeline: LocalPipeline, stages: Sequence[str] = ("processor", "signer")) -> bool:
    """Every stage committed everything its topic holds (in pipeline order)."""
    for stage in stages:
        done, end = committed(pipeline, stage)
        if done < end:
            return False
    return True


def wait_drained(
    pipeline: LocalPipeline,
    crew: Crew,
    seconds: float,
    stages: Sequence[str] = ("processor", "signer"),
) -> float:
    return wait(lambda: drained(pipeline, stages), seconds, f"{'+'.join(stages)} to drain", crew)


def group_members(pipeline: LocalPipeline, group: str) -> int:
    admin = KafkaAdminClient(**pipeline.kafka.client_options())
    try:
        return len(admin.describe_groups([group]).get(group, {}).get("members") or [])
    finally:
        admin.close()


def wait_group_members(
    pipeline: LocalPipeline, group: str, count: int, seconds: float = 60.0
) -> float:
    return wait(
        lambda: group_members(pipeline, group) == count,
        seconds,
        f"consumer group {group} to have {count} members",
    )


def rewind(pipeline: LocalPipeline, stage: str) -> None:
    """Commit offset 0 on every partition of the stage's topic (the group must be empty)."""
    group, topic = stage_groups(pipeline)[stage]
    wait_group_members(pipeline, group, 0)
    consumer = KafkaConsumer(
        **pipeline.kafka.client_options(), group_id=group, enable_auto_commit=False
    )
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []]
        consumer.commit({tp: OffsetAndMetadata(0, "", -1) for tp in partitions})
    finally:
        consumer.close()


# -- the audit -------------------------------------------------------------------------------
@dataclass
class Audit:
    expected: int
    stored: int = 0
    notifications: int = 0
    notified_distinct: int = 0
    lost: int = 0
    duplicates: int = 0
    unexpected: int = 0
    mismatched: int = 0
    raw_duplicate_notifications: int = 0
    verified_fast: int = 0
    verified_reference: int = 0
    verify_failures: int = 0
    manifests: int = 0
    manifest_problems: int = 0
    chain_breaks: int = 0
    unlisted: int = 0
    missing_badges: int | None = None
    keys_used: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def exact(self) -> bool:
        return not (
            self.lost
            or self.duplicates
            or self.unexpected
            or self.mismatched
            or self.verify_failures
            or self.manifest_problems
            or self.chain_breaks
            or self.unlisted
            or self.missing_badges
        )

    def figures(self) -> dict[str, Any]:
        data = asdict(self)
        data["problems"] = self.problems[:10]
        return data

    def explain(self) -> str:
        return json.dumps(self.figures(), indent=1)


def list_keys(pipeline: LocalPipeline, prefix: str) -> list[str]:
    client = s3_client(pipeline.store)
    pages = client.get_paginator("list_objects_v2").paginate(
        Bucket=pipeline.store.bucket, Prefix=prefix
    )
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


def fetch(pipeline: LocalPipeline, keys: Sequence[str]) -> dict[str, bytes]:
    client = s3_client(pipeline.store, max_pool_connections=16)

    def get(key: str) -> tuple[str, bytes]:
        return key, client.get_object(Bucket=pipeline.store.bucket, Key=key)["Body"].read()

    with ThreadPoolExecutor(16) as pool:
        return dict(pool.map(get, keys))


def snapshot(pipeline: LocalPipeline) -> dict[str, str]:
    """Every object of the tenant: key -> ETag (what a replay must leave unchanged)."""
    client = s3_client(pipeline.store)
    pages = client.get_paginator("list_objects_v2").paginate(
        Bucket=pipeline.store.bucket, Prefix=f"{pipeline.tenant}/"
    )
    return {item["Key"]: item["ETag"] for page in pages for item in page.get("Contents", [])}


def public_keys(pipeline: LocalPipeline) -> dict[str, bytes]:
    """Verification method id -> public key, for every key the tenant ever had."""
    ring = read_keyring(pipeline.keys, pipeline.tenant)
    did = pipeline.catalog.issuer.id
    return {
        f"{did}#{record.key_id}": public_key_from_multibase(record.public_key_multibase)
        for record in ring.keys
    }


def audit(
    pipeline: LocalPipeline,
    expected: Sequence[CredentialRequested],
    *,
    reference_sample: int | None = None,
    keys: dict[str, bytes] | None = None,
    badges: bool = False,
) -> Audit:
    codec = Codec()
    result = Audit(expected=len(expected))
    wanted = {a.credential_id: a for a in expected}

    records = read_all(pipeline.kafka, pipeline.topology.issued.name, want=0, seconds=60)
    notices = [codec.decode_as(r.value, CredentialIssued) for r in records]
    ids = [n.credential_id for n in notices]
    result.notifications = len(ids)
    result.notified_distinct = len(set(ids))
    result.raw_duplicate_notifications = len(ids) - len(set(ids))

    prefix = f"{pipeline.tenant}/credentials/"
    bodies = fetch(pipeline, list_keys(pipeline, prefix))
    stored = {key.removeprefix(prefix).removesuffix(".json"): body for key, body in bodies.items()}
    result.stored = len(stored)

    delivered = set(stored) & set(ids)
    result.lost = len(set(wanted) - delivered)
    surplus = (set(stored) | set(ids)) - set(wanted)
    result.unexpected = len(surplus)
    per_award: dict[tuple[str, int, str], set[str]] = defaultdict(set)
    for notice in notices:
        award = (notice.achievement_key, notice.achievement_version, notice.learner_id)
        per_award[award].add(notice.credential_id)
    for award in expected:
        per_award[(award.achievement_key, award.achievement_version, award.learner.id)].add(
            award.credential_id
        )
    result.duplicates = sum(1 for cids in per_award.values() if len(cids) > 1)
    for notice in notices:
        award = wanted.get(notice.credential_id)
        if award is not None and notice.issued_at != award.awarded_at:
            result.mismatched += 1
            result.problems.append(f"{notice.credential_id}: announced with another time")
    if result.lost:
        missing = sorted(set(wanted) - delivered)[:5]
        result.problems.append(
            "lost: "
            + ", ".join(
                f"{m} (stored={m in stored}, announced={m in set(ids)}, "
                f"source={wanted[m].source_event_id})"
                for m in missing
            )
        )
    if surplus:
        result.problems.append(f"unexpected: {sorted(surplus)[:5]}")

    keys = keys if keys is not None else public_keys(pipeline)
    fast, reference = default_canonicalizer(), RdfcReferenceCanonicalizer()
    sample_size = reference_sample if reference_sample is not None else sized(100, 1000)
    sample = set(random.Random(7).sample(sorted(stored), min(sample_size, len(stored))))
    used: Counter[str] = Counter()
    for cid, body in stored.items():
        credential = json.loads(body)
        method = credential.get("proof", {}).get("verificationMethod", "")
        used[method.rsplit("#", 1)[-1]] += 1
        award = wanted.get(cid)
        if award is not None and credential.get("validFrom") != xsd_datetime(award.awarded_at):
            result.mismatched += 1
            result.problems.append(f"{cid}: validFrom {credential.get('validFrom')}")
        public = keys.get(method)
        if public is None:
            result.verify_failures += 1
            result.problems.append(f"{cid}: unknown verification method {method}")
            continue
        ok = verify_proof(credential, public, fast).verified
        result.verified_fast += ok
        if cid in sample or not ok:
            if verify_proof(credential, public, reference).verified:
                result.verified_reference += 1
            else:
                result.verify_failures += 1
                result.problems.append(f"{cid}: does not verify (reference canonicalizer)")
    result.keys_used = dict(used)

    manifests = fetch(pipeline, list_keys(pipeline, f"{pipeline.tenant}/manifests/"))
    listed: set[str] = set()
    previous: dict[str, str] = {}  # chain -> digest of its last manifest (in offset order)
    for key in sorted(manifests):
        body = manifests[key]
        manifest = json.loads(body)
        problems = check_manifest(manifest)
        if problems:
            result.manifest_problems += 1
            result.problems.append(f"{key}: {problems}")
        chain = key.rsplit("/", 1)[0]
        if chain in previous and manifest.get("previous") != previous[chain]:
            result.chain_breaks += 1
            result.problems.append(f"{key}: does not link to the manifest before it")
        previous[chain] = manifest_digest(body)
        listed.update(entry["id"] for entry in manifest.get("entries", []))
    result.manifests = len(manifests)
    result.unlisted = len(set(stored) - listed)
    if result.unlisted:
        result.problems.append(f"not in any manifest: {sorted(set(stored) - listed)[:5]}")
    if badges:
        images = set(list_keys(pipeline, f"{pipeline.tenant}/badges/"))
        missing = [
            cid
            for cid in stored
            if not {f"{pipeline.tenant}/badges/{cid}.{e}" for e in ("png", "svg")} <= images
        ]
        result.missing_badges = len(missing)
        if missing:
            result.problems.append(f"no baked badge: {sorted(missing)[:5]}")
    return result


@contextlib.contextmanager
def timed() -> Iterator[dict[str, float]]:
    clock: dict[str, float] = {}
    start = time.monotonic()
    try:
        yield clock
    finally:
        clock["seconds"] = round(time.monotonic() - start, 1)
