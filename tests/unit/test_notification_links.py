"""The add-to-profile link in ``credential.issued``: LinkedIn reads its fields back exactly."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlsplit

from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.models import CredentialRequested, Learner
from signers.service._publish import linkedin_url

TEXT = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=40)


@settings(max_examples=300, deadline=None)
@given(
    name=TEXT,
    organization=TEXT,
    url=TEXT,
    awarded_at=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
)
def test_every_field_reads_back_from_the_link(
    name: str, organization: str, url: str, awarded_at: datetime
) -> None:
    request = CredentialRequested(
        credential_id="8a1b5c1e-8d2a-5d7e-9a55-0c7c2e3e3b11",
        tenant_id="example-u",
        achievement_key="da-101",
        achievement_version=1,
        learner=Learner(id="learner-7"),
        awarded_at=awarded_at,
        evidence=(),
        source_event_id="e-1",
    )
    link = linkedin_url(name, organization, request, url)
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "www.linkedin.com", "/profile/add")
    assert parse_qsl(parts.query, keep_blank_values=True, strict_parsing=True) == [
        ("startTask", "CERTIFICATION_NAME"),
        ("name", name),
        ("organizationName", organization),
        ("issueYear", str(awarded_at.year)),
        ("issueMonth", str(awarded_at.month)),
        ("certUrl", url),
        ("certId", request.credential_id),
    ]
