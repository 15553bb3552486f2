"""Speed of event signature verification: one at a time (libsodium) against a batch
(ed25519-dalek, :func:`producers.verify_events`), as the processor verifies them.

Run ``python -m producers.bench [signatures] [batch]``; figures are microseconds per
signature, medians of five interleaved passes in one run.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from producers._signing import EventSigner, SignedEvent, verify_event, verify_events

FINGERPRINT = bytes(8)
PASSES = 5


def _events(count: int) -> tuple[list[SignedEvent], dict[str, bytes]]:
    signer = EventSigner("bench", Ed25519PrivateKey.generate())
    events = []
    for number in range(count):
        value = b"\xc3\x01" + FINGERPRINT + bytes(180) + number.to_bytes(4, "big")
        event_id = f"00000000-0000-4000-8000-{number:012d}"
        headers = signer.headers(event_id, FINGERPRINT, 1_767_225_600_000 + number, value)
        events.append(SignedEvent(event_id, "bench", FINGERPRINT, value, headers))
    return events, {"bench": signer.public_key()}


def bench_verification(signatures: int = 5_000, batch: int = 500) -> dict[str, float]:
    events, keys = _events(signatures)

    def one_at_a_time() -> None:
        for e in events:
            verify_event(
                event_id=e.event_id, engine_id=e.engine_id, value=e.value,
                schema_fingerprint=e.schema_fingerprint, headers=e.headers, public_keys=keys,
            )  # fmt: skip

    def batched() -> None:
        for start in range(0, signatures, batch):
            verdicts = verify_events(events[start : start + batch], keys)
            if any(isinstance(v, Exception) for v in verdicts):
                raise AssertionError("a valid signature was refused")

    passes: dict[str, list[float]] = {"one_at_a_time_us": [], "batch_us": []}
    runs: Sequence[tuple[str, Callable[[], None]]] = (
        ("one_at_a_time_us", one_at_a_time),
        ("batch_us", batched),
    )
    for _ in range(PASSES):
        for name, run in runs:
            start = time.process_time()
            run()
            passes[name].append((time.process_time() - start) / signatures * 1e6)
    result = {name: round(statistics.median(values), 1) for name, values in passes.items()}
    return {
        "signatures": signatures,
        "batch": batch,
        **result,
        "ratio": round(result["one_at_a_time_us"] / result["batch_us"], 2),
    }


if __name__ == "__main__":
    arguments = [int(a) for a in sys.argv[1:3]]
    print(json.dumps(bench_verification(*arguments)))
