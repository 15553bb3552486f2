"""The processor's handler over a batch: decode, one signature check for all, route."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from processors.catalog import Catalog
from processors.stream import EventHandler, Handled, progress_key
from processors.stream._handler import Admitted
from producers import EventSigner
from schemas.codec import Codec
from schemas.dead_letters import Origin
from schemas.models import AssessmentCompleted, Learner

CODEC = Codec()
ENGINE = EventSigner("lms", Ed25519PrivateKey.from_private_bytes(bytes(range(32))))
HANDLER = EventHandler(
    CODEC, Catalog, {"lms": ENGINE.public_key()}, lambda: datetime(2026, 1, 1, tzinfo=UTC)
)


def _origin(offset: int, engine: EventSigner = ENGINE, tamper: bool = False) -> Origin:
    event = AssessmentCompleted(
        event_id=f"00000000-0000-4000-8000-{offset:012d}", tenant_id="example-u",
        engine_id=engine.engine_id, learner=Learner(id=f"l-{offset}", email="l@example.org"),
        course_id="da-101", assessment_id="da-101/m1", score=90.0, max_score=100.0,
        passed=True, attempt=1, occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
    )  # fmt: skip
    value = CODEC.encode(event)
    headers = engine.headers(event.event_id, CODEC.writer_fingerprint(value), 1, value)
    if tamper:  # another signing time than the one signed: the signature does not cover it
        headers = [(name, b"2" if name == "cs-ts" else v) for name, v in headers]
    key = progress_key("example-u", f"l-{offset}").encode()
    return Origin("assessments", 0, offset, key, value, headers)


def test_a_batch_is_admitted_in_order_with_each_bad_record_dead_lettered() -> None:
    impostor = EventSigner("ghost", Ed25519PrivateKey.from_private_bytes(bytes(32)))
    origins = [
        _origin(0), _origin(1, tamper=True), _origin(2), _origin(3, engine=impostor),
        Origin("assessments", 0, 4, b"k", b"not avro", []), _origin(5),
    ]  # fmt: skip
    results = HANDLER.admit(origins)
    admitted = [r.origin.offset for r in results if isinstance(r, Admitted)]
    assert admitted == [0, 2, 5]
    refused = {
        origins[i].offset: (r.outcome, r.reason, r.dead_letter is not None)
        for i, r in enumerate(results)
        if isinstance(r, Handled)
    }
    assert refused[1] == ("rejected_auth", "TamperedEventError", True)
    assert refused[3] == ("rejected_auth", "UnknownEngineError", True)
    assert refused[4][0] == "dead_lettered" and refused[4][2]
    assert set(refused) == {1, 3, 4}
    # One record through handle() gets the same verdict as in the batch.
    assert HANDLER.handle(origins[1], None).reason == "TamperedEventError"
    # The processor reads a batch on its own thread and checks its signatures on another.
    with ThreadPoolExecutor(1) as other:
        checked = other.submit(HANDLER.read(origins).check).result()
    assert [type(r) for r in checked] == [type(r) for r in results]
