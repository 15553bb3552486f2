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
from processors.criteria import CREDENTIAL_NAMESPACE, Progress, credential_id, evaluate

__all__ = [
    "CREDENTIAL_NAMESPACE",
    "Catalog",
    "CatalogError",
    "Progress",
    "TenantCatalog",
    "UnknownTenantError",
    "credential_id",
    "decode_catalog",
    "encode_catalog",
    "evaluate",
    "load_catalog",
    "load_catalogs",
    "validate_directory",
]
