"""Client CPU per conditional PUT: the pipelined store against plain boto3, in one run."""

from __future__ import annotations

import os
import resource
import time
import uuid
from dataclasses import asdict, dataclass

from signers.storage._store import ObjectWrite, Outcome, WriteOnceStore


@dataclass(frozen=True)
class StoreBenchResult:
    store: str
    objects: int
    objects_per_second: float
    client_cpu_ms_per_object: float

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure_puts(
    name: str,
    store: WriteOnceStore,
    count: int,
    size: int = 1500,
    batch: int = 256,
    prefix: str | None = None,
) -> StoreBenchResult:
    """Write ``count`` new objects of ``size`` bytes in batches, under ``prefix`` (a new
    one by default); every one must be created."""
    prefix = prefix if prefix is not None else f"bench/store/{uuid.uuid4().hex}"
    body = os.urandom(size)
    writes = [ObjectWrite(f"{prefix}/{i}.json", body) for i in range(count)]
    cpu, wall = _cpu_seconds(), time.perf_counter()
    created = 0
    for start in range(0, count, batch):
        results = store.put_new(writes[start : start + batch])
        created += sum(r.outcome is Outcome.CREATED for r in results)
    wall, cpu = time.perf_counter() - wall, _cpu_seconds() - cpu
    if created != count:
        raise RuntimeError(f"{name}: {count - created} of {count} objects were not created")
    return StoreBenchResult(name, count, count / wall, cpu / count * 1000)
