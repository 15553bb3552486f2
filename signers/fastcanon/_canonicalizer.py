"""The fast RDFC-1.0 canonicalizer: templates learnt from the documents, reference fallback."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from signers.fastcanon._compile import UnitCompiler
from signers.fastcanon._shape import Vocabulary, describer
from signers.fastcanon._template import Layout, Render, Schemes, Support, assemble, full_rdfc
from signers.proofs import (
    CONTEXT_FILES,
    Canonicalizer,
    OfflineDocumentLoader,
    RdfcReferenceCanonicalizer,
)

FALLBACK_UNMODELLED: Final = "unmodelled"
"""The document uses JSON-LD the shape walk does not model (or an unknown context)."""
FALLBACK_TEMPLATE: Final = "template"
"""Some part of the document's shape could not be compiled to a proven template."""
FALLBACK_VALUES: Final = "values"
"""This document's values are outside what its template proves: a value where an IRI goes
that is not a safe absolute IRI, or values JSON-LD would merge (equal ids, equal values of
one property)."""

_REJECTED: Final = object()
# Small documents (proof options) often repeat exactly: their N-Quads are kept, by shape
# and values, in a small LRU.
_SMALL_VALUES: Final = 8
_SMALL_DOCUMENTS_MAX: Final = 64


@dataclass(frozen=True)
class FastCanonStats:
    """Counters of one canonicalizer since it was made."""

    fast: int
    """Documents canonicalized by their template."""
    full_rdfc: int
    """Of those, documents whose blank nodes needed RDFC-1.0's N-degree step (equal
    first-degree hashes), run by pyld's URDNA2015 on the template's quads."""
    fallbacks: int
    """Documents canonicalized by the reference (see ``fallback_reasons``)."""
    fallback_reasons: Mapping[str, int]
    templates: int
    units: int
    units_compiled: int


class FastRdfcCanonicalizer:
    """RDFC-1.0 canonical N-Quads of JSON-LD documents, equal to ``reference``'s output.

    Documents of one *shape* (same structure, different values) share a template compiled
    once, in parts, by pyld; a document is then canonicalized by filling the template's
    holes and labelling its blank nodes, in tens of microseconds. Whatever the templates
    cannot prove equivalent goes to ``reference`` (by default the pyld reference
    canonicalizer) and is counted in :meth:`stats`. Both caches are bounded LRUs.
    """

    def __init__(
        self,
        reference: Canonicalizer | None = None,
        *,
        loader: OfflineDocumentLoader | None = None,
        max_templates: int = 1024,
        max_units: int = 16384,
    ) -> None:
        if max_templates < 1 or max_units < 1:
            raise ValueError("cache sizes must be positive")
        self._loader = loader if loader is not None else OfflineDocumentLoader()
        self._reference = (
            reference if reference is not None else RdfcReferenceCanonicalizer(self._loader)
        )
        vocabulary = _vocabulary(self._loader)
        self._describe = describer(frozenset(CONTEXT_FILES), vocabulary)
        self._support = Support(Schemes(vocabulary.terms), self._full_rdfc)
        self._units = UnitCompiler(self._reference, max_units)
        self._templates: OrderedDict[str, Any] = OrderedDict()
        self._small: OrderedDict[tuple[str, tuple[Any, ...]], str] = OrderedDict()
        self._max_templates = max_templates
        self._fast = 0
        self._full = 0
        self._fallbacks: dict[str, int] = {}

    def canonize(self, document: Mapping[str, Any]) -> str:
        plain = document if type(document) is dict else dict(document)
        described = self._describe(plain)
        if described is None:
            return self._fallback(document, FALLBACK_UNMODELLED)
        shape, values = described
        if len(values) <= _SMALL_VALUES:
            return self._small_document(document, shape, values)
        return self._render(document, shape, values)

    def _render(self, document: Mapping[str, Any], shape: str, values: list[Any]) -> str:
        render = self._template(shape)
        if render is _REJECTED:
            return self._fallback(document, FALLBACK_TEMPLATE)
        canonical: str | None = render(values)
        if canonical is None:
            return self._fallback(document, FALLBACK_VALUES)
        self._fast += 1
        return canonical

    def _small_document(self, document: Mapping[str, Any], shape: str, values: list[Any]) -> str:
        # Equal shapes hold values of equal kinds (1 and 1.0 differ there), so equal keys
        # are equal documents.
        key = (shape, tuple(values))
        canonical = self._small.get(key)
        if canonical is not None:
            self._small.move_to_end(key)
            self._fast += 1
            return canonical
        fallbacks = sum(self._fallbacks.values())
        canonical = self._render(document, shape, values)
        if sum(self._fallbacks.values()) == fallbacks:  # only what the templates made
            self._small[key] = canonical
            if len(self._small) > _SMALL_DOCUMENTS_MAX:
                self._small.popitem(last=False)
        return canonical

    def stats(self) -> FastCanonStats:
        return FastCanonStats(
            fast=self._fast,
            full_rdfc=self._full,
            fallbacks=sum(self._fallbacks.values()),
            fallback_reasons=dict(self._fallbacks),
            templates=len(self._templates),
            units=len(self._units),
            units_compiled=self._units.compiled,
        )

    def _template(self, shape: str) -> Any:
        templates = self._templates
        render = templates.get(shape)
        if render is not None:
            templates.move_to_end(shape)
            return render
        assembled: Render | None = assemble(shape, self._units, self._support)
        render = _REJECTED if assembled is None else assembled
        templates[shape] = render
        if len(templates) > self._max_templates:
            templates.popitem(last=False)
        return render

    def _full_rdfc(self, layout: Layout, values: list[Any]) -> str:
        self._full += 1
        return full_rdfc(layout, values)

    def _fallback(self, document: Mapping[str, Any], reason: str) -> str:
        self._fallbacks[reason] = self._fallbacks.get(reason, 0) + 1
        return self._reference.canonize(document)


def _vocabulary(loader: OfflineDocumentLoader) -> Vocabulary:
    """Term names of the packaged contexts, and the keys the shape walk does not model."""
    terms: set[str] = set()
    constant_keys = {"type"}
    unsupported: set[str] = set()

    def visit(context: Any) -> None:
        if isinstance(context, list):
            for item in context:
                visit(item)
            return
        if not isinstance(context, dict):
            return
        for term, definition in context.items():
            if term.startswith("@"):
                continue
            terms.add(term)
            target = definition.get("@id") if isinstance(definition, dict) else definition
            keyword = isinstance(target, str) and target.startswith("@")
            if keyword and (term, target) not in (("id", "@id"), ("type", "@type")):
                unsupported.add(term)
            if isinstance(definition, dict):
                if definition.get("@type") == "@vocab":
                    constant_keys.add(term)
                container = definition.get("@container", [])
                containers = {container} if isinstance(container, str) else set(container)
                if "@reverse" in definition or containers - {"@set", "@list", "@graph"}:
                    unsupported.add(term)
                visit(definition.get("@context"))

    for url in CONTEXT_FILES:
        visit(loader.document(url).get("@context"))
    return Vocabulary(frozenset(terms), frozenset(constant_keys), frozenset(unsupported))
