"""Event signatures: the exact signed bytes, verification, and each way it must refuse."""

from __future__ import annotations

import os
import stat
from collections.abc import Set as AbstractSet
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from credstream.errors import ConfigurationError, InvalidInputError
from producers import (
    EngineRegistry,
    EventSigner,
    Signatures,
    SignedEvent,
    TamperedEventError,
    UnknownEngineError,
    UnsignedEventError,
    VerifiedEvent,
    signed_message,
    verify_event,
    verify_events,
)
from producers.bench import bench_verification

FINGERPRINT = bytes.fromhex("3694c80a2a183cc5")
SIGNER = EventSigner("lms", Ed25519PrivateKey.from_private_bytes(bytes(range(32))))
KEYS = {"lms": SIGNER.public_key()}
VALUE = b"\xc3\x01" + FINGERPRINT + b"avro body"


def _verify(headers: list[tuple[str, bytes | None]], **changes: object) -> object:
    arguments: dict[str, object] = {
        "event_id": "e-1", "engine_id": "lms", "schema_fingerprint": FINGERPRINT,
        "value": VALUE, "headers": headers, "public_keys": KEYS,
    } | changes  # fmt: skip
    return verify_event(**arguments)  # type: ignore[arg-type]


def test_signed_message_layout_is_exact() -> None:
    assert signed_message("e-1", "lms", FINGERPRINT, 1_700_000_000_123, b"v") == (
        b"credstream-event-signature-v1\x00"
        + b"\x00\x00\x00\x03e-1"
        + b"\x00\x00\x00\x03lms"
        + FINGERPRINT
        + (1_700_000_000_123).to_bytes(8, "big")
        + b"\x00\x00\x00\x01v"
    )
    # Length prefixes keep field boundaries: moving a character between fields changes it.
    assert signed_message("e-1l", "ms", FINGERPRINT, 1, b"") != signed_message(
        "e-1", "lms", FINGERPRINT, 1, b""
    )
    with pytest.raises(InvalidInputError, match="8 bytes"):
        signed_message("e", "lms", b"short", 1, b"")


def test_a_signed_event_verifies() -> None:
    headers = SIGNER.headers("e-1", FINGERPRINT, 1_700_000_000_123, VALUE)
    assert [name for name, _ in headers] == ["cs-engine", "cs-ts", "cs-sig"]
    assert dict(headers)["cs-ts"] == b"1700000000123"
    verified = _verify([("traceparent", b"x"), *headers])
    assert verified.engine_id == "lms"  # type: ignore[attr-defined]
    assert verified.signed_at_ms == 1_700_000_000_123  # type: ignore[attr-defined]
    assert "lms" in repr(SIGNER) and "Private" not in repr(SIGNER)


def test_unsigned_tampered_and_unknown_engine_are_refused() -> None:
    headers = SIGNER.headers("e-1", FINGERPRINT, 1_700_000_000_123, VALUE)
    with pytest.raises(UnsignedEventError, match="missing header cs-sig"):
        _verify(headers[:2])
    with pytest.raises(UnsignedEventError, match="cs-engine, cs-ts, cs-sig"):
        _verify([])
    with pytest.raises(TamperedEventError, match="does not verify"):
        _verify(headers, value=VALUE + b"!")
    with pytest.raises(TamperedEventError, match="does not verify"):
        _verify(headers, event_id="e-2")
    with pytest.raises(TamperedEventError, match="does not verify"):
        _verify(headers, schema_fingerprint=bytes(8))
    with pytest.raises(TamperedEventError, match="does not verify"):
        _verify([*headers[:1], ("cs-ts", b"1700000000124"), headers[2]])
    with pytest.raises(TamperedEventError, match="not a time"):
        _verify([*headers[:1], ("cs-ts", b"-1"), headers[2]])
    with pytest.raises(TamperedEventError, match="does not verify"):
        _verify([*headers[:2], ("cs-sig", b"short")])
    # libsodium takes signature || message: a longer signature must not shift the split.
    with pytest.raises(TamperedEventError, match="does not verify"):
        _verify([*headers[:2], ("cs-sig", headers[2][1] + b"\x00")])
    with pytest.raises(TamperedEventError, match="does not verify"):
        _verify(headers, public_keys={"lms": KEYS["lms"][:31]})
    with pytest.raises(TamperedEventError, match="appears more than once"):
        _verify([*headers, headers[2]])
    with pytest.raises(TamperedEventError, match="is not the event's engine_id 'other'"):
        _verify(headers, engine_id="other")
    with pytest.raises(UnknownEngineError, match="engine 'lms' is not registered"):
        _verify(headers, public_keys={})
    other = EventSigner("lms", Ed25519PrivateKey.from_private_bytes(bytes(32)))
    forged = other.headers("e-1", FINGERPRINT, 1_700_000_000_123, VALUE)
    with pytest.raises(TamperedEventError, match="does not verify"):
        _verify(forged)


def _signed_events(count: int, forged: AbstractSet[int] = frozenset()) -> list[SignedEvent]:
    """``count`` events of engine lms; those in ``forged`` signed by another key."""
    impostor = EventSigner("lms", Ed25519PrivateKey.from_private_bytes(bytes(32)))
    events = []
    for number in range(count):
        value = VALUE + number.to_bytes(4, "big")
        signer = impostor if number in forged else SIGNER
        headers = signer.headers(f"e-{number}", FINGERPRINT, 1_700_000_000_000 + number, value)
        events.append(SignedEvent(f"e-{number}", "lms", FINGERPRINT, value, headers))
    return events


def test_a_batch_gets_each_events_verdict_in_order() -> None:
    events = _signed_events(8, forged={5})
    events[1] = SignedEvent("e-1", "lms", FINGERPRINT, VALUE, [])
    events[2] = SignedEvent("e-2", "ghost", FINGERPRINT, VALUE, events[2].headers)
    events[6] = SignedEvent("e-6", "lms", FINGERPRINT, VALUE + b"!", events[6].headers)
    verdicts = verify_events(events, KEYS)
    assert [type(v).__name__ for v in verdicts] == [
        "VerifiedEvent", "UnsignedEventError", "TamperedEventError", "VerifiedEvent",
        "VerifiedEvent", "TamperedEventError", "TamperedEventError", "VerifiedEvent",
    ]  # fmt: skip
    assert "e-5: the signature of engine 'lms' does not verify" in str(verdicts[5])
    assert "is not the event's engine_id 'ghost'" in str(verdicts[2])
    assert verdicts[7] == verify_event(
        event_id="e-7", engine_id="lms", schema_fingerprint=FINGERPRINT, value=events[7].value,
        headers=events[7].headers, public_keys=KEYS,
    )  # fmt: skip
    assert verify_events([], KEYS) == []


def test_signatures_read_on_one_thread_are_checked_on_another_alike_each_time() -> None:
    events = _signed_events(12, forged={3, 9})
    events[4] = SignedEvent("e-4", "lms", FINGERPRINT, VALUE, [])
    signatures = Signatures(events, KEYS)  # headers read here, curve arithmetic not yet
    with ThreadPoolExecutor(1) as other:
        first = other.submit(signatures.check).result()
    kinds = [type(v).__name__ for v in first]
    assert kinds == [type(v).__name__ for v in verify_events(events, KEYS)]
    assert [i for i, kind in enumerate(kinds) if kind != "VerifiedEvent"] == [3, 4, 9]
    assert [type(v).__name__ for v in signatures.check()] == kinds


def test_a_batch_with_a_malformed_registered_key_checks_each_alone() -> None:
    verdicts = verify_events(_signed_events(6), {"lms": KEYS["lms"][:31]})
    assert all(isinstance(v, TamperedEventError) for v in verdicts)


def test_a_registered_key_off_the_curve_fails_its_events_alone() -> None:
    # 32 bytes, but y = 2 is no point of the curve: the batch check raises, and the
    # bisection checks each event of the batch alone.
    off_curve = EventSigner("broken", Ed25519PrivateKey.from_private_bytes(bytes(range(32))))
    events = _signed_events(8)
    for number in (2, 5):
        headers = off_curve.headers(f"e-{number}", FINGERPRINT, 1, events[number].value)
        events[number] = SignedEvent(f"e-{number}", "broken", FINGERPRINT, VALUE, headers)
    keys = KEYS | {"broken": bytes([2]) + bytes(31)}
    verdicts = verify_events(events, keys)
    refused = [n for n, v in enumerate(verdicts) if isinstance(v, TamperedEventError)]
    assert refused == [2, 5]
    assert all(isinstance(v, VerifiedEvent) for n, v in enumerate(verdicts) if n not in refused)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 40).flatmap(lambda n: st.tuples(st.just(n), st.sets(st.integers(0, n)))))
def test_batch_verification_finds_exactly_the_forged_events(
    case: tuple[int, set[int]],
) -> None:
    count, forged = case
    forged = {i for i in forged if i < count}
    verdicts = verify_events(_signed_events(count, forged), KEYS)
    assert len(verdicts) == count
    assert {i for i, v in enumerate(verdicts) if isinstance(v, TamperedEventError)} == forged


def test_registry_adds_engines_with_private_keys_in_0600_files(tmp_path: Path) -> None:
    registry = EngineRegistry(tmp_path / "engines")
    now = datetime(2026, 1, 1, tzinfo=UTC)
    record = registry.add("lms-1", now)
    assert record.key_file == tmp_path / "engines" / "lms-1.key"
    assert stat.S_IMODE(os.stat(record.key_file).st_mode) == 0o600
    assert record.key_file.read_text().startswith("z")
    assert (
        record.key_file.read_text().strip()
        not in (tmp_path / "engines" / "engines.json").read_text()
    )
    registry.add("caliper-sensor", now)
    assert [r.engine_id for r in EngineRegistry(tmp_path / "engines").engines()] == [
        "lms-1",
        "caliper-sensor",
    ]
    signer = registry.signer("lms-1")
    assert registry.public_keys()["lms-1"] == signer.public_key()
    headers = signer.headers("e-1", FINGERPRINT, 5, VALUE)
    verify_event(
        event_id="e-1", engine_id="lms-1", schema_fingerprint=FINGERPRINT, value=VALUE,
        headers=headers, public_keys=registry.public_keys(),
    )  # fmt: skip


def test_registry_refuses_what_it_must(tmp_path: Path) -> None:
    registry = EngineRegistry(tmp_path)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    registry.add("lms", now)
    with pytest.raises(InvalidInputError, match="already registered"):
        registry.add("lms", now)
    with pytest.raises(InvalidInputError, match=r"engine id '\.\./x'"):
        registry.add("../x", now)
    with pytest.raises(ConfigurationError, match="run `credstream engines add ghost`"):
        registry.signer("ghost")
    other = registry.add("other", now)
    with pytest.raises(ConfigurationError, match="is not the key registered for 'lms'"):
        registry.signer("lms", key_file=other.key_file)
    garbage = tmp_path / "garbage.key"
    garbage.write_text("zNotAKey0OIl")
    with pytest.raises(ConfigurationError, match="does not hold an Ed25519 secret key") as caught:
        registry.signer("lms", key_file=garbage)
    assert "zNotAKey" not in str(caught.value)
    (tmp_path / "engines.json").write_text("{}")
    with pytest.raises(ConfigurationError, match="is not an engine registry"):
        registry.engines()


def test_the_verification_benchmark_reports_both_ways_over_valid_signatures() -> None:
    report = bench_verification(signatures=40, batch=16)
    assert (report["signatures"], report["batch"]) == (40, 16)
    assert report["one_at_a_time_us"] > 0 and report["batch_us"] > 0
    assert report["ratio"] == round(report["one_at_a_time_us"] / report["batch_us"], 2)
