"""The producer side: the SDK assessment engines embed, event signing and its verification,
the engine key registry, and the synthetic MOOC workload. Format adapters live in
``producers.adapters``."""

from producers._engines import DEFAULT_DIRECTORY, EngineRecord, EngineRegistry
from producers._producer import (
    AssessmentEventProducer,
    DeliveryError,
    DeliveryFailure,
    DeliveryReport,
    SignedRecord,
)
from producers._run import EventSink, SendSummary, send_events
from producers._signing import (
    HEADER_ENGINE,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    AuthenticityError,
    EventSigner,
    Signatures,
    SignedEvent,
    TamperedEventError,
    UnknownEngineError,
    UnsignedEventError,
    VerifiedEvent,
    signed_message,
    verify_event,
    verify_events,
)
from producers._synthetic import (
    CourseSpec,
    Workload,
    cohort_completion,
    courses_from_assessments,
    courses_from_description,
    generate,
    synthetic_courses,
)

__all__ = [
    "DEFAULT_DIRECTORY",
    "HEADER_ENGINE",
    "HEADER_SIGNATURE",
    "HEADER_TIMESTAMP",
    "AssessmentEventProducer",
    "AuthenticityError",
    "CourseSpec",
    "DeliveryError",
    "DeliveryFailure",
    "DeliveryReport",
    "EngineRecord",
    "EngineRegistry",
    "EventSigner",
    "EventSink",
    "SendSummary",
    "Signatures",
    "SignedEvent",
    "SignedRecord",
    "TamperedEventError",
    "UnknownEngineError",
    "UnsignedEventError",
    "VerifiedEvent",
    "Workload",
    "cohort_completion",
    "courses_from_assessments",
    "courses_from_description",
    "generate",
    "send_events",
    "signed_message",
    "synthetic_courses",
    "verify_event",
    "verify_events",
]
