"""Scenario 14: fuzzing every decoder and adapter. Whatever the bytes or documents, the
only way out other than a result is a typed rejection (a ``CredstreamError``: in practice
an ``InvalidInputError`` naming the problem). Inputs are both arbitrary and mutations of
valid samples (a flipped byte, a truncated record, a field replaced by any JSON value),
which reach deep into each parser. Short: 150 examples per target; full: 4,000.
"""

from __future__ import annotations

import contextlib
import copy
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from credstream.errors import CredstreamError
from processors.catalog import Catalog, decode_catalog, load_catalog, parse_catalog
from processors.criteria import Progress
from processors.stream import EventHandler
from producers import EventSigner, verify_event
from producers.adapters import (
    AdapterContext,
    OpenEdxDecoder,
    convert_text,
    from_caliper,
    from_openedx,
    from_row,
    from_xapi,
)
from schemas.codec import Codec
from schemas.dead_letters import Origin
from schemas.models import AssessmentCompleted, CredentialRequested, Evidence, Learner
from signers.keys import resolve_verification_method
from signers.proofs import verify_credential
from signers.render import bake_png, bake_svg, default_png, default_svg, extract_png, extract_svg
from signers.status import Bitstring, parse_status_list_url, read_status, status_target
from tests.system._harness import sized
from tests.system.conftest import Recorder

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "tests" / "data" / "samples"
CATALOG = ROOT / "deploy" / "catalogs" / "example-u.yaml"
CONTEXT = AdapterContext(tenant_id="example-u", engine_id="fuzz-engine")
NOW = datetime(2026, 3, 1, tzinfo=UTC)
EXAMPLES = sized(150, 4000)
# No shrinking: a failure is reported as found, and a run stays bounded in time.
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# Every target and how many inputs it got (for the scenario line).
TARGETS: dict[str, int] = {}

TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=80)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | TEXT,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(TEXT, inner, max_size=5),
    max_leaves=25,
)


@pytest.fixture(autouse=True)
def _reported(scenario: Recorder) -> Iterator[None]:
    """Every test here reports scenario 14: inputs per target so far."""
    scenario(14, "fuzzing every decoder and adapter (hypothesis)")
    yield
    scenario(
        14,
        "fuzzing every decoder and adapter (hypothesis)",
        targets=len(TARGETS),
        inputs=sum(TARGETS.values()),
        examples_per_test=EXAMPLES,
    )


def typed_only(target: str, call: Callable[[], object]) -> None:
    """Run ``call``; a CredstreamError is a typed rejection, anything else fails the test."""
    TARGETS[target] = TARGETS.get(target, 0) + 1
    with contextlib.suppress(CredstreamError):
        call()


def mutated(document: Any, data: st.DataObject) -> Any:
    """``document`` with one node replaced by any JSON value, or deleted from its parent."""
    document = copy.deepcopy(document)
    parent: Any = None
    key: Any = None
    node = document
    while isinstance(node, dict | list) and node and data.draw(st.booleans()):
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        parent, key = node, data.draw(st.sampled_from(keys))
        node = node[key]
    if parent is None:
        return data.draw(JSON)
    if data.draw(st.booleans()):
        parent[key] = data.draw(JSON)
    elif isinstance(parent, dict):
        del parent[key]
    else:
        parent.pop(key)
    return document


def damaged(blob: bytes, data: st.DataObject) -> bytes:
    if not blob:
        return data.draw(st.binary(max_size=64))
    where = data.draw(st.integers(0, len(blob) - 1))
    kind = data.draw(st.sampled_from(["flip", "truncate", "insert", "delete"]))
    if kind == "flip":
        return (
            blob[:where] + bytes([blob[where] ^ data.draw(st.integers(1, 255))]) + blob[where + 1 :]
        )
    if kind == "truncate":
        return blob[:where]
    if kind == "insert":
        return blob[:where] + data.draw(st.binary(min_size=1, max_size=16)) + blob[where:]
    return blob[:where] + blob[where + data.draw(st.integers(1, 32)) :]


def _json(path: Path) -> Any:
    return json.loads(path.read_text())


def _event() -> AssessmentCompleted:
    return AssessmentCompleted(
        event_id="e-1", tenant_id="example-u", engine_id="fuzz-engine",
        learner=Learner(id="l-1", email="l@example.org"), course_id="da-101",
        assessment_id="da-101/m1", score=90, max_score=100, passed=True, occurred_at=NOW,
        attributes={"source": "fuzz"},
    )  # fmt: skip


def _request() -> CredentialRequested:
    return CredentialRequested(
        credential_id="7a1c9a2e-0e4e-5b1a-9c55-8d0f1b2c3d4e", tenant_id="example-u",
        achievement_key="da-101", achievement_version=1, learner=Learner(id="l-1"),
        awarded_at=NOW, source_event_id="e-1",
        evidence=(Evidence(event_id="e-1", course_id="da-101", assessment_id="da-101/m1",
                           score=90, max_score=100, occurred_at=NOW),),
    )  # fmt: skip


CODEC = Codec()
RECORDS = [CODEC.encode(_event()), CODEC.encode(_request())]
XAPI = [_json(p) for p in sorted((SAMPLES / "xapi").glob("*.json"))]
CALIPER = [_json(p) for p in sorted((SAMPLES / "caliper-v1p2").glob("*.json"))]
OPENEDX = [
    json.loads(line)
    for line in (SAMPLES / "openedx" / "grades.jsonl").read_text().splitlines()
    if line.strip()
]
FILES = {
    "csv": (SAMPLES / "backfill" / "results-2025.csv").read_text(),
    "jsonl": (SAMPLES / "backfill" / "results.jsonl").read_text(),
    "openedx": (SAMPLES / "openedx" / "grades.jsonl").read_text(),
    "xapi": (SAMPLES / "xapi" / "lrs-statement-result.json").read_text(),
    "caliper": (SAMPLES / "caliper-v1p2" / "caliperEnvelopeEventBatch.json").read_text(),
}
CATALOG_DOC = yaml.safe_load(CATALOG.read_text())
TENANT_CATALOG = load_catalog(CATALOG)
ENGINE = EventSigner("fuzz-engine", Ed25519PrivateKey.generate())
HANDLER = EventHandler(
    CODEC, lambda: Catalog([TENANT_CATALOG]), {"fuzz-engine": ENGINE.public_key()}, lambda: NOW
)
PNG, SVG = default_png("urn:fuzz"), default_svg("urn:fuzz", "Fuzz")


def _signed_event() -> tuple[bytes, list[tuple[str, bytes]]]:
    value = CODEC.encode(_event())
    return value, ENGINE.headers("e-1", CODEC.writer_fingerprint(value), 1, value)


SIGNED_VALUE, SIGNED_HEADERS = _signed_event()
CREDENTIAL = {
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    "type": ["VerifiableCredential", "OpenBadgeCredential"],
    "issuer": {"id": "did:web:badges.example.edu"},
    "validFrom": "2026-03-01T00:00:00Z",
    "credentialSubject": {"type": ["AchievementSubject"]},
    "credentialStatus": [
        {
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": "3",
            "statusListCredential": "https://x.example/example-u/status/revocation/p0-0.json",
        }
    ],
    "proof": {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": "2026-03-01T00:00:00Z",
        "verificationMethod": "did:web:badges.example.edu#k1",
        "proofPurpose": "assertionMethod",
        "proofValue": "z" + "1" * 86,
    },
}
DID_DOCUMENT = {
    "@context": ["https://www.w3.org/ns/did/v1"],
    "id": "did:web:badges.example.edu",
    "verificationMethod": [
        {
            "id": "did:web:badges.example.edu#k1",
            "type": "Multikey",
            "controller": "did:web:badges.example.edu",
            "publicKeyMultibase": "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
        }
    ],
    "assertionMethod": ["did:web:badges.example.edu#k1"],
}
STATUS_LIST = {
    "credentialSubject": {
        "type": "BitstringStatusList",
        "statusPurpose": "revocation",
        "encodedList": "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA",
    }
}


# -- the record codec and what the processor does with any record ----------------------------
@FUZZ
@given(st.data())
def test_codec_decodes_or_rejects(data: st.DataObject) -> None:
    blob = data.draw(st.binary(max_size=300) | st.sampled_from(RECORDS))
    if data.draw(st.booleans()):
        blob = damaged(blob, data)
    typed_only("codec.decode", lambda: CODEC.decode(blob))
    typed_only("codec.decode_as", lambda: CODEC.decode_as(blob, CredentialRequested))


@FUZZ
@given(st.data())
def test_the_processor_handles_any_record_without_raising(data: st.DataObject) -> None:
    value = damaged(SIGNED_VALUE, data) if data.draw(st.booleans()) else SIGNED_VALUE
    headers = (
        [(k, damaged(v, data)) for k, v in SIGNED_HEADERS]
        if data.draw(st.booleans())
        else data.draw(st.lists(st.tuples(TEXT, st.none() | st.binary(max_size=80)), max_size=4))
    )
    key = data.draw(st.none() | st.binary(max_size=40) | st.just(b"example-u/l-1"))
    progress = data.draw(st.none() | st.binary(max_size=80) | st.just(b'{"v":1,"r":{},"a":{}}'))
    origin = Origin("fuzz", 0, 0, key, value, headers)
    TARGETS["processor handler"] = TARGETS.get("processor handler", 0) + 1
    handled = HANDLER.handle(origin, progress)  # never raises: a dead letter at worst
    assert handled.outcome in ("accepted", "dead_lettered", "rejected_auth")


@FUZZ
@given(
    TEXT, TEXT, st.binary(max_size=12), st.binary(max_size=200),
    st.lists(st.tuples(TEXT | st.sampled_from(["cs-engine", "cs-ts", "cs-sig"]),
                       st.none() | st.binary(max_size=80)), max_size=5),
    st.dictionaries(TEXT, st.binary(max_size=40), max_size=2),
)  # fmt: skip
def test_event_signature_checks_only_reject(
    event_id: str,
    engine: str,
    fingerprint: bytes,
    value: bytes,
    headers: list[tuple[str, bytes | None]],
    keys: dict[str, bytes],
) -> None:
    typed_only(
        "verify_event",
        lambda: verify_event(
            event_id=event_id, engine_id=engine, schema_fingerprint=fingerprint, value=value,
            headers=headers, public_keys=keys,
        ),
    )  # fmt: skip


@FUZZ
@given(st.binary(max_size=200))
def test_progress_bytes_decode_or_reject(blob: bytes) -> None:
    typed_only("Progress.from_bytes", lambda: Progress.from_bytes(blob))


# -- adapters -------------------------------------------------------------------------------
@FUZZ
@given(st.data())
def test_xapi_adapter(data: st.DataObject) -> None:
    statement = mutated(data.draw(st.sampled_from(XAPI)), data)
    typed_only("from_xapi", lambda: from_xapi(statement, CONTEXT))


@FUZZ
@given(st.data())
def test_caliper_adapter(data: st.DataObject) -> None:
    event = mutated(data.draw(st.sampled_from(CALIPER)), data)
    submitted = data.draw(st.none() | st.dictionaries(TEXT, JSON, max_size=2))
    typed_only("from_caliper", lambda: from_caliper(event, CONTEXT, submitted))


@FUZZ
@given(st.data())
def test_openedx_adapter_and_decoder(data: st.DataObject) -> None:
    event = mutated(data.draw(st.sampled_from(OPENEDX)), data)
    typed_only("from_openedx", lambda: from_openedx(event, CONTEXT))
    decoder = OpenEdxDecoder()
    headers = [("ce_type", data.draw(st.sampled_from([*decoder.event_types, "x"])).encode())]
    typed_only(
        "OpenEdxDecoder.cloudevent",
        lambda: decoder.cloudevent(data.draw(st.binary(max_size=120)), headers),
    )


@FUZZ
@given(st.dictionaries(TEXT, TEXT | st.none(), max_size=12) | JSON)
def test_tabular_adapter(row: Any) -> None:
    typed_only("from_row", lambda: from_row(row, CONTEXT))


@FUZZ
@given(st.data())
def test_whole_files_convert_or_are_rejected(data: st.DataObject) -> None:
    fmt = data.draw(st.sampled_from(sorted(FILES)))
    text = FILES[fmt]
    if data.draw(st.booleans()):
        text = damaged(text.encode(), data).decode("utf-8", "replace")
    else:
        text = data.draw(TEXT)
    typed_only("convert_text", lambda: convert_text(text, fmt, CONTEXT))


# -- the catalog parser ---------------------------------------------------------------------
@FUZZ
@given(st.data())
def test_catalogs_parse_or_are_rejected(data: st.DataObject) -> None:
    document = mutated(CATALOG_DOC, data)
    text = yaml.safe_dump(document, allow_unicode=True)
    typed_only("parse_catalog", lambda: parse_catalog(text, "fuzz.yaml"))
    raw = damaged(CATALOG.read_bytes(), data).decode("utf-8", "replace")
    typed_only("parse_catalog (bytes)", lambda: parse_catalog(raw, "fuzz.yaml"))
    encoded = json.dumps(document, default=str).encode()
    typed_only("decode_catalog", lambda: decode_catalog(encoded))


# -- baked badges ---------------------------------------------------------------------------
@FUZZ
@given(st.data())
def test_baked_badges_extract_or_are_rejected(data: st.DataObject) -> None:
    png = damaged(bake_png(PNG, json.dumps(CREDENTIAL)), data)
    svg = damaged(bake_svg(SVG, json.dumps(CREDENTIAL)), data)
    typed_only("extract_png", lambda: extract_png(png))
    typed_only("extract_svg", lambda: extract_svg(svg))


# -- status lists, DID documents, credentials ------------------------------------------------
@FUZZ
@given(st.data())
def test_status_lists_decode_or_are_rejected(data: st.DataObject) -> None:
    encoded = data.draw(TEXT | st.just(STATUS_LIST["credentialSubject"]["encodedList"]))
    typed_only("Bitstring.decode", lambda: Bitstring.decode(encoded))
    listed = mutated(STATUS_LIST, data)
    entry = mutated(CREDENTIAL["credentialStatus"][0], data)
    typed_only("read_status", lambda: read_status(listed, entry))
    typed_only("parse_status_list_url", lambda: parse_status_list_url(data.draw(JSON)))
    credential = mutated(CREDENTIAL, data)
    action = data.draw(st.sampled_from(["revoke", "suspend", "reinstate", "x"]))
    typed_only("status_target", lambda: status_target(credential, action, "example-u"))


@FUZZ
@given(st.data())
def test_did_documents_resolve_or_are_rejected(data: st.DataObject) -> None:
    document = mutated(DID_DOCUMENT, data)
    method = data.draw(st.just("did:web:badges.example.edu#k1") | TEXT)
    typed_only("resolve_verification_method", lambda: resolve_verification_method(document, method))


@FUZZ
@given(st.data())
def test_credentials_verify_or_fail_checks(data: st.DataObject) -> None:
    from signers.proofs import controller_document_method, default_canonicalizer

    credential = mutated(CREDENTIAL, data)

    def resolve(method: str) -> Any:
        return controller_document_method(copy.deepcopy(DID_DOCUMENT), method)

    typed_only(
        "verify_credential",
        lambda: verify_credential(credential, resolve, NOW, default_canonicalizer()),
    )
