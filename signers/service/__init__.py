"""The signing service: consume credential requests, build and sign Open Badges 3.0
credentials across processes, store them write-once, announce them, commit."""

from signers.service._factory import (
    CredentialFactory,
    Signed,
    SignFailure,
    SigningPool,
    SigningPoolError,
    SignJob,
    credential_json,
)
from signers.service._manifests import ManifestWriter, S3ManifestIndex
from signers.service._publish import (
    CREDENTIAL_MEDIA_TYPE,
    Stored,
    badge_key,
    credential_key,
    notification,
    store_credentials,
)
from signers.service._service import (
    STAGE,
    BatchReport,
    CatalogLookup,
    SignerService,
)

__all__ = [
    "CREDENTIAL_MEDIA_TYPE",
    "STAGE",
    "BatchReport",
    "CatalogLookup",
    "CredentialFactory",
    "ManifestWriter",
    "S3ManifestIndex",
    "SignFailure",
    "SignJob",
    "Signed",
    "SignerService",
    "SigningPool",
    "SigningPoolError",
    "Stored",
    "badge_key",
    "credential_json",
    "credential_key",
    "notification",
    "store_credentials",
]
