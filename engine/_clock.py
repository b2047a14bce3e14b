"""The per-request values a signing template may read: the time in the forms processors sign,
and fresh random values (a nonce, a UUID). Computed once per request, so every header and field
of one request agrees on them."""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

#: name → description (the template contexts and the spec reference list them).
CLOCK_VALUES: Mapping[str, str] = {
    "timestamp": "the request's time as whole Unix seconds (an integer)",
    "timestamp_ms": "the same time in Unix milliseconds (an integer)",
    "iso_time": "the same time as ISO 8601 UTC with milliseconds: `2026-12-04T17:54:42.123Z`",
    "http_date": "the same time as an HTTP date (RFC 9110 IMF-fixdate, GMT)",
    "nonce": "32 random hexadecimal characters, fresh for each request",
    "uuid": "a random UUID (version 4), fresh for each request",
}

_READS = re.compile(r"\b(?:" + "|".join(CLOCK_VALUES) + r")\b")


def reads_clock(section: Any) -> bool:
    """Whether any template in `section` (a spec's auth) may read a per-request value."""
    if isinstance(section, Mapping):
        return any(reads_clock(k) or reads_clock(v) for k, v in section.items())
    if isinstance(section, list):
        return any(reads_clock(item) for item in section)
    return isinstance(section, str) and "{{" in section and bool(_READS.search(section))


def clock_values(now: float) -> dict[str, Any]:
    from email.utils import formatdate  # a slow import, needed by signing specs alone

    moment = datetime.fromtimestamp(now, UTC)
    return {
        "timestamp": int(now),
        "timestamp_ms": int(now * 1000),
        "iso_time": moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z",
        "http_date": formatdate(now, usegmt=True),
        "nonce": secrets.token_hex(16),
        "uuid": str(uuid.uuid4()),
    }
