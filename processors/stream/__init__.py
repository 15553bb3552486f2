"""The processor stage: assessment events in, credential requests out (Faust)."""

from processors.stream._app import PROGRESS_TABLE, build_app, progress_changelog
from processors.stream._handler import (
    STAGE,
    EventHandler,
    Handled,
    MisroutedEventError,
    progress_key,
)
from processors.stream._source import FetchedBatches

__all__ = [
    "PROGRESS_TABLE",
    "STAGE",
    "EventHandler",
    "FetchedBatches",
    "Handled",
    "MisroutedEventError",
    "build_app",
    "progress_changelog",
    "progress_key",
]
