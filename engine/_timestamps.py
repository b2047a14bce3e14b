"""A timestamp as a processor writes it (Unix seconds, Unix milliseconds, RFC 3339) → Unix seconds.

One table for every place a spec reads a point in time: a webhook's signed timestamp (checked
against `tolerance_seconds`) and an access token's absolute expiry.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

#: Digits only: `int()` would also take " 12", "+12" and "1_2", which no processor sends.
_DIGITS = re.compile(r"[0-9]{1,18}").fullmatch
#: RFC 3339 date-time: a date, `T` (or a space, as some processors write it), a time with
#: optional fraction, and a zone (`Z`, `±hh:mm`, or `±hhmm` as some APIs write it).
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?"
    r"([Zz]|[+-][0-9]{2}:?[0-9]{2})"
).fullmatch


def _integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str) and _DIGITS(value):
        return int(value)
    return None


def _unix_seconds(value: Any) -> float | None:
    number = _integer(value)
    return None if number is None else float(number)


def _unix_milliseconds(value: Any) -> float | None:
    number = _integer(value)
    return None if number is None else number / 1000


def _rfc3339(value: Any) -> float | None:
    if not isinstance(value, str) or not _RFC3339(value):
        return None
    text = value[:-1] + "+00:00" if value[-1] in "Zz" else value
    if len(text) > 6 and text[-5] in "+-" and text[-3] != ":":  # ±hhmm → ±hh:mm
        text = f"{text[:-2]}:{text[-2:]}"
    fraction = re.search(r"\.([0-9]+)", text)
    if fraction and len(fraction.group(1)) > 6:  # datetime keeps microseconds: drop the rest
        text = text.replace(fraction.group(0), "." + fraction.group(1)[:6], 1)
    try:
        return datetime.fromisoformat(text.replace(" ", "T", 1)).timestamp()
    except ValueError:  # month 13, hour 25 …
        return None


#: timestamp format name in a spec → (read the value as Unix seconds or None, documentation).
TIMESTAMP_FORMATS: Mapping[str, tuple[Callable[[Any], float | None], str]] = {
    "unix_seconds": (_unix_seconds, "Unix time in seconds: `1767225600` (a number or digits)."),
    "unix_milliseconds": (
        _unix_milliseconds,
        "Unix time in milliseconds: `1767225600000` (a number or digits).",
    ),
    "rfc3339": (
        _rfc3339,
        "An RFC 3339 date-time with a zone: `2026-01-01T00:00:00Z`, `…+01:00` (also `+0100`).",
    ),
}


def read_timestamp(value: Any, fmt: str) -> float | None:
    """`value` in format `fmt` as Unix seconds; None when it is not such a timestamp."""
    return TIMESTAMP_FORMATS[fmt][0](value)
