"""Every model mirrors its schema, round-trips through it, and every schema history evolves
BACKWARD_TRANSITIVE compatibly."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import avro.io
import avro.schema
import fastavro
import pytest
from pydantic import BaseModel, Field, ValidationError

from schemas.codec import Codec
from schemas.contracts import (
    Contract,
    backward_problems,
    backward_transitive_problems,
    fingerprint,
    load_contracts,
    revision,
    schema_drift,
)
from schemas.models import (
    AchievementCatalog,
    AssessmentCompleted,
    CredentialIssued,
    CredentialRequested,
    CredentialStatusChange,
    DeadLetter,
    Evidence,
    Header,
    Learner,
    StatusAction,
)

CONTRACTS = load_contracts()
AT = datetime(2026, 3, 1, 12, 30, 15, 123000, tzinfo=UTC)

EXAMPLES: dict[type[BaseModel], BaseModel] = {
    AssessmentCompleted: AssessmentCompleted(
        event_id="e-1", tenant_id="uni", engine_id="lms", course_id="da-101",
        learner=Learner(id="l-1", email="ada@example.org"), assessment_id="da-101/m1",
        score=87.5, max_score=100.0, passed=True, attempt=2, occurred_at=AT,
        attributes={"source": "xapi"},
    ),
    CredentialRequested: CredentialRequested(
        credential_id="c-1", tenant_id="uni", achievement_key="da-101", achievement_version=3,
        learner=Learner(id="l-1"), awarded_at=AT, source_event_id="e-1",
        evidence=(Evidence(event_id="e-1", course_id="da-101", assessment_id="da-101/m1",
                           score=87.5, max_score=100.0, occurred_at=AT),),
    ),
    CredentialIssued: CredentialIssued(
        credential_id="c-1", tenant_id="uni", learner_id="l-1", achievement_key="da-101",
        achievement_version=3, credential_url="https://cdn.example/c-1.json",
        image_url=None, linkedin_add_to_profile_url="https://www.linkedin.com/profile/add?x=1",
        issued_at=AT,
    ),
    CredentialStatusChange: CredentialStatusChange(
        credential_id="c-1", tenant_id="uni", action=StatusAction.SUSPEND,
        reason="under review", requested_at=AT,
    ),
    AchievementCatalog: AchievementCatalog.of("uni", 7, '{"achievements": []}', AT),
    DeadLetter: DeadLetter(
        source_topic="assessment.completed.v1", source_partition=2, source_offset=10**12,
        original_key=b"uni/l-1", original_value=b"\xc3\x01garbage",
        original_headers=(Header(key="cs-engine", value=b"lms"), Header(key="empty")),
        stage="criteria", error_class="DecodeError", error_message="truncated", failed_at=AT,
    ),
}  # fmt: skip


def test_every_contract_has_an_example() -> None:
    assert {c.model for c in CONTRACTS} == set(EXAMPLES)


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.name)
def test_model_mirrors_schema(contract: Contract) -> None:
    assert schema_drift(contract.model, contract.current.schema) == []


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.name)
def test_model_round_trips_through_its_schema(contract: Contract) -> None:
    codec = Codec(CONTRACTS)
    example = EXAMPLES[contract.model]
    data = codec.encode(example)
    assert codec.decode(data).record == example
    assert codec.decode_as(data, contract.model) == example


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.name)
def test_encoded_bytes_are_fastavros_and_read_the_same_with_the_reference_avro_library(
    contract: Contract,
) -> None:
    codec = Codec(CONTRACTS)
    example = EXAMPLES[contract.model]
    body = codec.encode(example)[10:]
    by_fastavro = io.BytesIO()
    fastavro.schemaless_writer(by_fastavro, contract.current.parsed, example.model_dump())
    assert body == by_fastavro.getvalue()  # written natively, from the model's attributes
    reader = avro.io.DatumReader(avro.schema.parse(contract.current.schema_json))
    by_reference = reader.read(avro.io.BinaryDecoder(io.BytesIO(body)))
    assert contract.model.model_validate(by_reference) == example


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.name)
def test_history_is_backward_transitive(contract: Contract) -> None:
    assert contract.history[-1].canonical_form == contract.current.canonical_form
    assert backward_transitive_problems(contract.history) == []


def test_fingerprint_matches_the_avro_spec_and_reference_library() -> None:
    # The Avro specification's test vector: CRC-64-AVRO of "null".
    assert fingerprint('"null"') == (7195948357588979594).to_bytes(8, "little")
    for contract in CONTRACTS:
        # Fed the canonical form: the avro package's own keeps {"type": "long"} for logical
        # types where the specification (and Java, fastavro) write "long".
        reference = avro.schema.parse(contract.current.canonical_form).fingerprint("CRC-64-AVRO")
        assert contract.current.fingerprint == reference


# -- the checks catch what they are there for -------------------------------------------

_BASE = {
    "type": "record", "name": "Thing", "namespace": "test",
    "fields": [
        {"name": "id", "type": "string"},
        {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["a", "b"]}},
    ],
}  # fmt: skip


def _evolve(*fields: dict[str, object], drop: str | None = None) -> str:
    schema = json.loads(json.dumps(_BASE))
    schema["fields"] = [f for f in schema["fields"] if f["name"] != drop] + list(fields)
    return json.dumps(schema)


def test_compatible_evolutions_pass() -> None:
    optional = {"name": "note", "type": ["null", "string"], "default": None}
    assert backward_problems(_evolve(optional), json.dumps(_BASE)) == []
    assert backward_problems(_evolve(drop="id"), json.dumps(_BASE)) == []  # reader ignores it


def test_careless_evolutions_fail() -> None:
    required = _evolve({"name": "score", "type": "double"})
    problems = backward_problems(required, json.dumps(_BASE))
    assert problems and "score" in " ".join(problems)
    fewer_symbols = json.loads(json.dumps(_BASE))
    fewer_symbols["fields"][1]["type"]["symbols"] = ["a"]
    assert backward_problems(json.dumps(fewer_symbols), json.dumps(_BASE))
    retyped = json.loads(json.dumps(_BASE))
    retyped["fields"][0]["type"] = "int"
    assert backward_problems(json.dumps(retyped), json.dumps(_BASE))
    history = (revision(1, json.dumps(_BASE)), revision(2, _evolve()), revision(3, required))
    assert [p.split(":")[0] for p in backward_transitive_problems(history)] == [
        "revision 3 cannot read 1",
        "revision 3 cannot read 2",
    ]


class _Drifted(BaseModel):
    id: int  # string in the schema
    kind: str = "a"  # an enum without default in the schema
    note: str | None = None  # not in the schema


def test_drift_is_reported_both_ways() -> None:
    schema = json.loads(_evolve({"name": "extra", "type": ["null", "long"], "default": None}))
    problems = schema_drift(_Drifted, schema)
    assert any(p.startswith("id: ") for p in problems)
    assert any(p.startswith("kind: ") and "enum" in p for p in problems)
    assert any(p.startswith("kind: the model has a default") for p in problems)
    assert "note: in _Drifted, not in the schema" in problems
    assert "extra: in the schema, not in _Drifted" in problems


class _Optionality(BaseModel):
    a: str | None = None
    b: str
    c: dict[str, int] = Field(default_factory=dict)


def test_optionality_and_nested_types_drift() -> None:
    schema = {
        "type": "record", "name": "O",
        "fields": [
            {"name": "a", "type": "string"},
            {"name": "b", "type": ["null", "string"], "default": None},
            {"name": "c", "type": {"type": "map", "values": "string"}, "default": {}},
        ],
    }  # fmt: skip
    problems = schema_drift(_Optionality, schema)
    assert "a: optional in the model, not in the schema" in problems
    assert "b: optional in the schema, required in the model" in problems
    assert any(p.startswith("c[]: ") for p in problems)


def test_an_older_revision_still_decodes_to_the_current_model() -> None:
    current = next(c for c in CONTRACTS if c.model is AssessmentCompleted)
    older_schema = current.current.schema
    older_schema["fields"] = [f for f in older_schema["fields"] if f["name"] != "attributes"]
    older = revision(1, json.dumps(older_schema))
    evolved = Contract(
        current.name, current.stem, current.model,
        current.current, (older, current.current),
    )  # fmt: skip
    assert backward_transitive_problems(evolved.history) == []
    record = EXAMPLES[AssessmentCompleted].model_dump(exclude={"attributes"})
    body = io.BytesIO()
    fastavro.schemaless_writer(body, older.parsed, record)
    data = b"\xc3\x01" + older.fingerprint + body.getvalue()
    decoded = Codec((evolved,)).decode(data)
    assert decoded.writer is older
    assert decoded.record == EXAMPLES[AssessmentCompleted].model_copy(update={"attributes": {}})


def test_catalog_digest_must_match_its_document() -> None:
    with pytest.raises(ValidationError, match="sha256 does not match"):
        AchievementCatalog(
            tenant_id="uni", version=1, sha256="0" * 64, document="{}", published_at=AT
        )
