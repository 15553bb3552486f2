"""A key service that is down is not the request's fault: the signer retries the batch."""

from __future__ import annotations

from datetime import UTC, datetime

from credstream.errors import CredstreamError
from processors.catalog import load_catalog
from schemas.models import CredentialRequested, Learner
from signers.credential import BuildOptions
from signers.keys import KeyCustodyError, KmsUnavailableError, SigningKey
from signers.service import CredentialFactory, SignFailure, SignJob
from signers.status import SigningUnavailableError, allocate_slot
from signers.storage import StoreUnavailableError
from tests.integration.workers import SAMPLE_CATALOG

CATALOG = load_catalog(SAMPLE_CATALOG)


def _job() -> SignJob:
    achievement = CATALOG.achievements[0]
    request = CredentialRequested(
        credential_id="00000000-0000-5000-8000-000000000001", tenant_id=CATALOG.tenant,
        achievement_key=achievement.key, achievement_version=achievement.version,
        learner=Learner(id="l-1"), awarded_at=datetime(2026, 1, 1, tzinfo=UTC),
        source_event_id="e-1",
    )  # fmt: skip
    return SignJob(request, achievement, CATALOG.issuer, allocate_slot("p0", 1))


def _failing(error: CredstreamError) -> CredentialFactory:
    def open_key(tenant: str) -> SigningKey:
        raise error

    return CredentialFactory(BuildOptions("https://x.example/credentials"), open_key)


def test_an_unreachable_key_service_is_a_transient_failure() -> None:
    made = _failing(KmsUnavailableError("KMS Decrypt: still failing")).make(_job())
    assert isinstance(made, SignFailure)
    assert made.transient and made.error_class == "KmsUnavailableError"


def test_a_key_that_cannot_be_used_is_not_transient() -> None:
    made = _failing(KeyCustodyError("no active key")).make(_job())
    assert isinstance(made, SignFailure) and not made.transient


def test_the_service_signals_a_pause_the_batch_loop_understands() -> None:
    # BatchLoop holds and retries a batch on StoreUnavailableError (never skips it).
    assert issubclass(SigningUnavailableError, StoreUnavailableError)
