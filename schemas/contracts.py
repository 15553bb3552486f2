"""The contracts (schema revisions and models) and the checks that keep them sound."""

from schemas._contracts import (
    Contract,
    Revision,
    canonical_form,
    fingerprint,
    load_contracts,
    revision,
)
from schemas._drift import schema_drift
from schemas._evolution import backward_problems, backward_transitive_problems

__all__ = [
    "Contract",
    "Revision",
    "backward_problems",
    "backward_transitive_problems",
    "canonical_form",
    "fingerprint",
    "load_contracts",
    "revision",
    "schema_drift",
]
