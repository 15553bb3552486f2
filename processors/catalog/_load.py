"""Reading catalogs from YAML files and from their JSON record, with errors that name the spot."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from credstream.errors import InvalidInputError
from processors.catalog._models import _TAG_PREFIX, TenantCatalog

CATALOG_SUFFIXES = (".yaml", ".yml")

_FRIENDLY = {
    "extra_forbidden": "unknown field",
    "missing": "required field missing",
}


class CatalogError(InvalidInputError):
    """A catalog is invalid. ``problems`` are ``path: message`` lines about ``source``."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = tuple(problems)
        super().__init__("\n".join(f"{source}: {problem}" for problem in problems))


@dataclass(frozen=True)
class FileReport:
    """The outcome of validating one catalog file: a catalog, or its problems."""

    path: Path
    catalog: TenantCatalog | None
    problems: tuple[str, ...]


def _location(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif not part.startswith(_TAG_PREFIX):
            text += f".{part}" if text else part
    return text


def _problems(error: ValidationError) -> list[str]:
    problems: list[str] = []
    details: list[ErrorDetails] = error.errors(include_url=False)
    for detail in details:
        if detail["type"] == "catalog":  # already `path: message` lines
            problems.extend(str(detail["ctx"]["problems"]).splitlines())
            continue
        message = _FRIENDLY.get(detail["type"], detail["msg"])
        where = _location(detail["loc"])
        problems.append(f"{where}: {message}" if where else message)
    return problems


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects a key given twice (PyYAML keeps the last one silently)."""


def _mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if not isinstance(key, Hashable):  # a list or mapping as a key (YAML's "? [a, b]")
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a plain value", key_node.start_mark
            )
        if key in seen:
            mark = key_node.start_mark
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key '{key}' (line {mark.line + 1})", mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def parse_catalog(text: str, source: str) -> TenantCatalog:
    """Validate one catalog from YAML text; ``source`` names it in errors."""
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as error:
        raise CatalogError(source, [f"not valid YAML: {' '.join(str(error).split())}"]) from None
    if not isinstance(data, dict):
        raise CatalogError(source, ["a catalog is a mapping with tenant, issuer, achievements"])
    try:
        return TenantCatalog.model_validate(data)
    except ValidationError as error:
        raise CatalogError(source, _problems(error)) from None


def load_catalog(path: Path) -> TenantCatalog:
    """Validate one catalog file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CatalogError(str(path), [f"cannot read: {error}"]) from None
    return parse_catalog(text, str(path))


def validate_directory(directory: Path) -> list[FileReport]:
    """Validate every ``*.yaml`` / ``*.yml`` file in ``directory`` (one tenant per file)."""
    if not directory.is_dir():
        raise CatalogError(str(directory), ["not a directory"])
    files = sorted(p for p in directory.iterdir() if p.suffix in CATALOG_SUFFIXES)
    if not files:
        raise CatalogError(str(directory), ["no catalog files (*.yaml, *.yml)"])
    reports: list[FileReport] = []
    owner: dict[str, Path] = {}
    for path in files:
        try:
            catalog = load_catalog(path)
        except CatalogError as error:
            reports.append(FileReport(path, None, error.problems))
            continue
        first = owner.setdefault(catalog.tenant, path)
        if first != path:
            problem = f"tenant: '{catalog.tenant}' is already defined in {first}"
            reports.append(FileReport(path, None, (problem,)))
        else:
            reports.append(FileReport(path, catalog, ()))
    return reports


def load_catalogs(directory: Path) -> dict[str, TenantCatalog]:
    """Every tenant's catalog in ``directory``; raises if any file is invalid."""
    reports = validate_directory(directory)
    problems = [f"{r.path}: {p}" for r in reports for p in r.problems]
    if problems:
        raise CatalogError(str(directory), problems)
    return {r.catalog.tenant: r.catalog for r in reports if r.catalog is not None}


def encode_catalog(catalog: TenantCatalog) -> bytes:
    """The value of a catalog's ``achievement.catalog.v1`` record (JSON for now)."""
    return catalog.model_dump_json(by_alias=True, exclude_none=True).encode()


def decode_catalog(value: bytes, source: str = "achievement.catalog.v1 record") -> TenantCatalog:
    """The inverse of :func:`encode_catalog`, validating again (a record may be foreign)."""
    try:
        return TenantCatalog.model_validate_json(value)
    except ValidationError as error:
        raise CatalogError(source, _problems(error)) from None
