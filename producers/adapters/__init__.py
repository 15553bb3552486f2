"""Adapters from the formats real platforms emit to ``AssessmentCompleted``.

Each single-input adapter returns an event, or :class:`Skipped` for a well-formed input
that is not an assessment result, and raises :class:`FieldError` naming the fields at fault.
:func:`convert_file` converts a whole file and refuses it whole if any input is malformed.
"""

from producers.adapters._caliper import caliper_events, from_caliper, submissions
from producers.adapters._common import (
    AdapterContext,
    FieldError,
    Problem,
    RejectedFileError,
    Skipped,
)
from producers.adapters._files import FORMATS, Conversion, convert_file, convert_text
from producers.adapters._openedx import OpenEdxDecoder, from_openedx
from producers.adapters._tabular import COLUMNS, from_row
from producers.adapters._xapi import from_xapi, learner_of

__all__ = [
    "COLUMNS",
    "FORMATS",
    "AdapterContext",
    "Conversion",
    "FieldError",
    "OpenEdxDecoder",
    "Problem",
    "RejectedFileError",
    "Skipped",
    "caliper_events",
    "convert_file",
    "convert_text",
    "from_caliper",
    "from_openedx",
    "from_row",
    "from_xapi",
    "learner_of",
    "submissions",
]
