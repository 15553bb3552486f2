"""The contracts: each topic's Avro schema, all its published revisions, and its model.

``schemas/avro/<stem>.avsc`` is the current schema; ``schemas/avro/history/<stem>/NNNN.avsc``
holds every published revision, oldest first, the newest equal to the current one. Old
revisions stay decodable: a record written with any of them resolves to the current model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

import fastavro
from pydantic import BaseModel

from credstream.errors import ConfigurationError
from schemas.models import (
    AchievementCatalog,
    AssessmentCompleted,
    CredentialIssued,
    CredentialRequested,
    CredentialStatusChange,
    DeadLetter,
)

# (contract name, file stem, model): the name is the topic for event contracts.
_DECLARED: tuple[tuple[str, str, type[BaseModel]], ...] = (
    ("assessment.completed.v1", "assessment_completed.v1", AssessmentCompleted),
    ("credential.requested.v1", "credential_requested.v1", CredentialRequested),
    ("credential.issued.v1", "credential_issued.v1", CredentialIssued),
    ("credential.status.v1", "credential_status.v1", CredentialStatusChange),
    ("achievement.catalog.v1", "achievement_catalog.v1", AchievementCatalog),
    ("dead.letter.v1", "dead_letter.v1", DeadLetter),
)


@dataclass(frozen=True, eq=False)
class Revision:
    """One published revision of a schema."""

    number: int
    schema_json: str
    canonical_form: str
    fingerprint: bytes  # CRC-64-AVRO of the canonical form, 8 bytes little-endian
    parsed: Any  # fastavro's parsed schema

    @property
    def schema(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.schema_json)
        return value


@dataclass(frozen=True, eq=False)
class Contract:
    name: str
    stem: str
    model: type[BaseModel]
    current: Revision
    history: tuple[Revision, ...]  # oldest first; the last one is the published current

    @property
    def full_name(self) -> str:
        return str(self.current.parsed["name"])


def fingerprint(schema: dict[str, Any] | str) -> bytes:
    """CRC-64-AVRO fingerprint (8 bytes, little-endian, as in single-object encoding)."""
    canonical = schema if isinstance(schema, str) else canonical_form(schema)
    return bytes.fromhex(fastavro.schema.fingerprint(canonical, "CRC-64-AVRO"))


def canonical_form(schema: dict[str, Any]) -> str:
    return str(fastavro.schema.to_parsing_canonical_form(fastavro.parse_schema(schema)))


def revision(number: int, schema_json: str) -> Revision:
    """Parse one schema text into a revision (its canonical form and fingerprint)."""
    try:
        parsed = fastavro.parse_schema(json.loads(schema_json))
    except (ValueError, fastavro.schema.SchemaParseException) as error:
        raise ConfigurationError(f"schema revision {number} does not parse: {error}") from None
    canonical = str(fastavro.schema.to_parsing_canonical_form(parsed))
    return Revision(number, schema_json, canonical, fingerprint(canonical), parsed)


def _revision_file(number: int, entry: Traversable) -> Revision:
    return revision(number, entry.read_text(encoding="utf-8"))


def load_contracts() -> tuple[Contract, ...]:
    """Read every contract's schema files shipped in the package (done once, at start)."""
    root = resources.files("schemas").joinpath("avro")
    contracts = []
    for name, stem, model in _DECLARED:
        current = _revision_file(0, root.joinpath(f"{stem}.avsc"))
        folder = root.joinpath("history", stem)
        files = sorted(
            (entry for entry in folder.iterdir() if entry.name.endswith(".avsc")),
            key=lambda entry: entry.name,
        )
        history = tuple(
            _revision_file(int(entry.name.removesuffix(".avsc")), entry) for entry in files
        )
        if not history or history[-1].canonical_form != current.canonical_form:
            raise ConfigurationError(
                f"{stem}.avsc differs from its newest revision in history/{stem}/: "
                "publish a change by adding the next numbered revision there"
            )
        current = Revision(
            history[-1].number,
            current.schema_json,
            current.canonical_form,
            current.fingerprint,
            current.parsed,
        )
        contracts.append(Contract(name, stem, model, current, history))
    return tuple(contracts)
