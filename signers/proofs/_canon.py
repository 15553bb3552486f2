"""Canonicalization strategies: the suites hash whatever ``canonize`` returns.

:class:`RdfcReferenceCanonicalizer` (pyld, RDFC-1.0 / URDNA2015) is the reference for
``eddsa-rdfc-2022``; a faster canonicalizer must produce the same N-Quads for the same input.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from pyld import jsonld
from pyld.context_resolver import ContextResolver

from credstream.errors import SigningError
from signers.proofs._jsonld import OfflineDocumentLoader, UnknownContextError

# Bounds pyld's resolved-context cache: untrusted documents may carry any number of
# distinct inline contexts.
_RESOLVED_CONTEXTS_MAX = 64


class CanonicalizationError(SigningError):
    """A document cannot be canonicalized (invalid JSON-LD, or not canonical JSON)."""


class DataLossError(CanonicalizationError):
    """JSON-LD processing would drop data (an undefined term, a relative IRI), so that
    part of the document would be neither signed nor verified (VC Data Integrity 1.0
    requires an error: DATA_LOSS_DETECTION_ERROR)."""


class Canonicalizer(Protocol):
    """Turns a JSON document into the canonical text that is hashed and signed."""

    def canonize(self, document: Mapping[str, Any]) -> str: ...


class _BoundedCache(dict[str, Any]):
    """pyld's ``shared_cache`` (get and set only), evicting the oldest entry when full."""

    def __setitem__(self, key: str, value: Any) -> None:
        if key not in self and len(self) >= _RESOLVED_CONTEXTS_MAX:
            del self[next(iter(self))]
        super().__setitem__(key, value)


class _SafeProcessor(jsonld.JsonLdProcessor):  # type: ignore[misc]
    """pyld's processor, raising where pyld would silently drop data (pyld 2 has no
    "safe mode"): at the three places its expansion and RDF conversion skip input."""

    def _expand_object(
        self,
        active_ctx: Any,
        active_property: Any,
        expanded_active_property: Any,
        element: Mapping[str, Any],
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        for key in element:
            if key == "@context":
                continue
            expanded = self._expand_iri(active_ctx, key, vocab=True)
            if expanded in jsonld.KEYWORDS:
                continue
            if not jsonld._is_absolute_iri(expanded) or expanded.startswith("_:"):
                raise DataLossError(f"term {key!r} is not defined by the document's @context")
        return super()._expand_object(
            active_ctx, active_property, expanded_active_property, element, *args, **kwargs
        )

    def _graph_to_rdf(self, graph: Mapping[str, Any], *args: Any, **kwargs: Any) -> Any:
        for node_id in graph:
            if not jsonld._is_absolute_iri(node_id):
                raise DataLossError(f"id {node_id!r} is not an absolute IRI")
        return super()._graph_to_rdf(graph, *args, **kwargs)

    def _object_to_rdf(self, item: Any, *args: Any, **kwargs: Any) -> Any:
        rdf_object = super()._object_to_rdf(item, *args, **kwargs)
        if rdf_object is None:  # pyld's answer for a relative IRI
            value = item.get("@id") if isinstance(item, Mapping) else item
            raise DataLossError(f"{value!r} is not an absolute IRI")
        return rdf_object


class RdfcReferenceCanonicalizer:
    """RDFC-1.0 canonical N-Quads by pyld, with the offline loader and data-loss
    detection; contexts are resolved once per instance (not in pyld's process-wide cache)."""

    def __init__(self, loader: OfflineDocumentLoader | None = None) -> None:
        self._loader = loader if loader is not None else OfflineDocumentLoader()
        self._processor = _SafeProcessor()
        self._resolved: _BoundedCache = _BoundedCache()

    def canonize(self, document: Mapping[str, Any]) -> str:
        options = {
            "algorithm": "URDNA2015",
            "format": "application/n-quads",
            "documentLoader": self._loader,
            # A fresh resolver per call: its per-operation cache would otherwise grow forever.
            "contextResolver": ContextResolver(self._resolved, self._loader),
        }
        try:
            nquads: str = self._processor.normalize(dict(document), options)
        except jsonld.JsonLdError as error:
            unknown = _unknown_context(error)
            if unknown is not None:
                raise unknown from error
            raise CanonicalizationError(f"RDFC-1.0: {_innermost_message(error)}") from error
        except (
            KeyError,
            TypeError,
            ValueError,
            AttributeError,
            IndexError,
            RecursionError,
        ) as error:
            # pyld 2 fails on some malformed input (odd inline contexts) with Python errors.
            raise CanonicalizationError(
                f"RDFC-1.0: invalid JSON-LD ({type(error).__name__})"
            ) from error
        return nquads


def _causes(error: BaseException) -> list[BaseException]:
    """The error and what caused it, outermost first (pyld nests causes in two places)."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain:
        chain.append(current)
        nested = getattr(current, "cause", None)
        details = getattr(current, "details", None)
        if nested is None and isinstance(details, dict):
            nested = details.get("cause")
        current = nested if isinstance(nested, BaseException) else current.__cause__
    return chain


def _unknown_context(error: BaseException) -> UnknownContextError | None:
    return next((c for c in _causes(error) if isinstance(c, UnknownContextError)), None)


def _innermost_message(error: BaseException) -> str:
    innermost = _causes(error)[-1]
    message = str(innermost.args[0]) if innermost.args else type(innermost).__name__
    code = getattr(innermost, "code", None)
    return f"{message} ({code})" if code else message


def default_canonicalizer() -> Canonicalizer:
    """The RDFC-1.0 canonicalizer credstream signs and verifies with: templates learnt
    per document shape (``signers.fastcanon``), proven byte-identical to the reference by
    differential tests, with the reference as its fallback."""
    from signers.fastcanon import FastRdfcCanonicalizer  # imports this module

    return FastRdfcCanonicalizer()
