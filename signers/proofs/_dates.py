"""XML Schema ``dateTimeStamp`` values (a date-time with its time zone), as VC 2.0 uses."""

from __future__ import annotations

import re
from datetime import datetime

_DATE_TIME_STAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})", re.ASCII
)


def parse_date_time_stamp(value: object) -> datetime | None:
    """The aware datetime ``value`` denotes, or None when it is not a dateTimeStamp."""
    if not isinstance(value, str) or not _DATE_TIME_STAMP.fullmatch(value):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
