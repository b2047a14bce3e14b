"""Text that may hold secrets → text that does not: credential values, card numbers, CVCs
and auth headers are replaced, wherever they appear and however they were encoded."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from urllib.parse import quote, quote_plus

MASK = "[REDACTED]"

#: Headers whose values are always secret, whatever the spec.
SENSITIVE_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "x-api-key", "cookie", "set-cookie"}
)

# 12-19 digits, optionally split by single spaces or dashes, standing alone (not inside an id
# such as 0VF52814937998046): a possible card number.
_PAN = re.compile(r"(?<![0-9A-Za-z])(?:[0-9][ -]?){11,18}[0-9](?![0-9A-Za-z])")


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _mask_pan(match: re.Match[str]) -> str:
    digits = re.sub(r"[ -]", "", match.group(0))
    return MASK if luhn_valid(digits) else match.group(0)


class Scrubber:
    """Replaces known secret values (in their plain, JSON-escaped and URL-encoded forms) and
    anything that looks like a card number."""

    __slots__ = ("_pattern", "_secrets")

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Compiled on first use: most built requests are sent, never printed.
        self._secrets = tuple(secrets)
        self._pattern: re.Pattern[str] | None = None

    def _compiled(self) -> re.Pattern[str] | None:
        if self._pattern is None and self._secrets:
            self._pattern = _secret_pattern(self._secrets)
        return self._pattern

    def text(self, text: str) -> str:
        pattern = self._compiled()
        if pattern is not None:
            text = pattern.sub(MASK, text)
        return _PAN.sub(_mask_pan, text)

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        return {
            name: MASK if name.lower() in SENSITIVE_HEADERS else self.text(value)
            for name, value in headers.items()
        }


def _secret_pattern(secrets: Iterable[str]) -> re.Pattern[str] | None:
    variants: set[str] = set()
    for secret in secrets:
        if not secret:
            continue
        variants.update({secret, quote(secret, safe=""), quote_plus(secret)})
        # JSON-escaped both ways: \u-escaped, and with non-ASCII as is (the engine's encoder).
        variants.add(json.dumps(secret)[1:-1])
        variants.add(json.dumps(secret, ensure_ascii=False)[1:-1])
    parts = []
    for variant in sorted(variants, key=len, reverse=True):
        escaped = re.escape(variant)
        # Short values (a CVC) only where they stand alone, so "123" does not eat "41234".
        parts.append(rf"(?<![0-9A-Za-z]){escaped}(?![0-9A-Za-z])" if len(variant) < 8 else escaped)
    return re.compile("|".join(parts)) if parts else None
