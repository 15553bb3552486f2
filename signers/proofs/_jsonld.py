"""Offline JSON-LD document loader: packaged contexts only, nothing is ever fetched."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from importlib import resources
from types import MappingProxyType
from typing import Any

from credstream.errors import SigningError

CONTEXT_FILES: Mapping[str, str] = MappingProxyType(
    {
        "https://www.w3.org/ns/credentials/v2": "credentials-v2.jsonld",
        "https://www.w3.org/ns/credentials/examples/v2": "credentials-examples-v2.jsonld",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json": (
            "ob-v3p0-context-3.0.3.json"
        ),
    }
)


class UnknownContextError(SigningError):
    """A document names a JSON-LD context that is not packaged with credstream."""

    def __init__(self, url: str) -> None:
        super().__init__(
            f"unknown JSON-LD context {url!r}: only packaged contexts are served, "
            "nothing is fetched"
        )
        self.url = url


def packaged_context_bytes(url: str) -> bytes:
    """The packaged file of a known context URL, exactly as published."""
    name = CONTEXT_FILES.get(url)
    if name is None:
        raise UnknownContextError(url)
    return resources.files("signers.contexts").joinpath(name).read_bytes()


class OfflineDocumentLoader:
    """A pyld ``documentLoader``: known URL -> packaged document, any other -> error.

    Parsed documents are cached per instance. Each load returns a copy because pyld
    rewrites context URLs inside the document it is given.
    """

    def __init__(self) -> None:
        self._parsed: dict[str, Any] = {}

    def __call__(self, url: str, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return {
            "contextUrl": None,
            "documentUrl": url,
            "contentType": "application/ld+json",
            "document": copy.deepcopy(self.document(url)),
            # "static" lets pyld keep the resolved context, so it is processed once.
            "tag": "static",
        }

    def document(self, url: str) -> Any:
        if url not in self._parsed:
            self._parsed[url] = json.loads(packaged_context_bytes(url))
        return self._parsed[url]
