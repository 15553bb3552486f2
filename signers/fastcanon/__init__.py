"""Fast RDFC-1.0 canonicalization of credentials, byte-identical to the pyld reference.

Credentials made from one template share their graph's shape. :class:`FastRdfcCanonicalizer`
learns shapes from the documents themselves, compiles each part of a shape once with the
reference implementation into N-Quads with holes, and canonicalizes a document by filling
the holes and labelling its blank nodes (RDFC-1.0's first-degree hashes). Anything it
cannot prove equivalent goes to the reference canonicalizer, counted in ``stats()``.
"""

from signers.fastcanon._canonicalizer import (
    FALLBACK_TEMPLATE,
    FALLBACK_UNMODELLED,
    FALLBACK_VALUES,
    FastCanonStats,
    FastRdfcCanonicalizer,
)
from signers.fastcanon._samples import sample_credentials

__all__ = [
    "FALLBACK_TEMPLATE",
    "FALLBACK_UNMODELLED",
    "FALLBACK_VALUES",
    "FastCanonStats",
    "FastRdfcCanonicalizer",
    "sample_credentials",
]
