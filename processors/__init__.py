"""processors: the criteria engine's pure core and (later) the Faust app around it.

Public API: catalogs (``processors.catalog``) and the engine (``processors.criteria``).
"""

from processors.catalog import (
    Catalog,
    CatalogError,
    TenantCatalog,
    UnknownTenantError,
    decode_catalog,
    encode_catalog,
    load_catalog,
    load_catalogs,
    validate_directory,
)
from processors.criteria import (
    CREDENTIAL_NAMESPACE,
    EMPTY_PROGRESS,
    Progress,
    Rejected,
    credential_id,
    evaluate,
    replay,
)

__all__ = [
    "CREDENTIAL_NAMESPACE",
    "EMPTY_PROGRESS",
    "Catalog",
    "CatalogError",
    "Progress",
    "Rejected",
    "TenantCatalog",
    "UnknownTenantError",
    "credential_id",
    "decode_catalog",
    "encode_catalog",
    "evaluate",
    "load_catalog",
    "load_catalogs",
    "replay",
    "validate_directory",
]
