"""Text that may hold secrets → text that does not: credential values, card numbers, CVCs
and auth headers are replaced, wherever they appear and however they were encoded."""

from __future__ import annotations

import base64
import dataclasses
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar
from urllib.parse import quote, quote_plus

_T = TypeVar("_T")

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

    def __init__(self, secrets: Iterable[str] = (), derived: Iterable[str] = ()) -> None:
        # Compiled on first use: most built requests are sent, never printed. `derived` are
        # the values the auth scheme made from the secrets (header values and their parts:
        # base64 of id:secret, signatures): what was sent, learnt by the builder.
        self._secrets = tuple(secrets) + tuple(derived_parts(derived))
        self._pattern: re.Pattern[str] | None = None

    def learn(self, *values: str) -> Scrubber:
        """A scrubber that also hides `values` (and their parts)."""
        return Scrubber(self._secrets, values)

    def joined(self, *others: Scrubber) -> Scrubber:
        """A scrubber that hides what this one and each of `others` hide."""
        return Scrubber([*self._secrets, *(s for other in others for s in other._secrets)])

    def known(self, text: str) -> str:
        """`text` with the known secret values replaced (no card-number heuristic)."""
        pattern = self._compiled()
        return pattern.sub(MASK, text) if pattern is not None else text

    def result(self, value: _T) -> _T:
        """A copy of a Result (or any frozen dataclass tree) whose strings are scrubbed:
        known secrets everywhere, card-number look-alikes too in free text (messages)."""
        cleaned: _T = _scrub_tree(self, value)
        return cleaned

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


#: Free-text fields of a Result: scrubbed of card-number look-alikes as well.
_FREE_TEXT = frozenset({"message", "connector_message", "connector_code", "decline_code"})

# The parts of an auth header value worth hiding on their own: "Basic <b64>", the quoted
# values of a Signature header (keyid="…", signature="…"), "Bearer <token>".
_PARTS = re.compile(r'[^\s,;="()]{16,}=*')


def derived_parts(values: Iterable[str]) -> list[str]:
    out: list[str] = []
    for value in values:
        if not value:
            continue
        out.append(value)
        for part in _PARTS.findall(value):
            out += [part, part.rstrip("=")]  # base64 with and without its padding
    return out


def _scrub_tree(scrubber: Scrubber, value: Any, name: str = "") -> Any:
    if isinstance(value, str):
        return scrubber.text(value) if name in _FREE_TEXT else scrubber.known(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {}
        for f in dataclasses.fields(value):
            current = getattr(value, f.name)
            if f.name == "access_token":  # a wrapper that hides its value: left alone
                continue
            cleaned = _scrub_tree(scrubber, current, f.name)
            if cleaned is not current:
                changes[f.name] = cleaned
        return dataclasses.replace(value, **changes) if changes else value
    if isinstance(value, Mapping):
        return {k: _scrub_tree(scrubber, v, name) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_scrub_tree(scrubber, v, name) for v in value)
    return value


def _secret_pattern(secrets: Iterable[str]) -> re.Pattern[str] | None:
    variants: set[str] = set()
    for secret in secrets:
        if not secret:
            continue
        variants.update({secret, quote(secret, safe=""), quote_plus(secret)})
        # Simple derivations a processor or a library may echo: case changes and base64.
        variants.update({secret.upper(), secret.lower()})
        if len(secret) >= 8:
            raw = secret.encode("utf-8", "surrogatepass")
            for encoded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
                text = encoded.decode("ascii")
                variants.update({text, text.rstrip("=")})
        # JSON-escaped both ways: \u-escaped, and with non-ASCII as is (the engine's encoder).
        variants.add(json.dumps(secret)[1:-1])
        variants.add(json.dumps(secret, ensure_ascii=False)[1:-1])
        # As Python's repr writes it (httpcore logs header values as bytes reprs).
        variants.add(repr(secret)[1:-1])
        variants.add(repr(secret.encode("utf-8", "surrogatepass"))[2:-1])
    parts = []
    for variant in sorted(variants, key=len, reverse=True):
        escaped = re.escape(variant)
        # Short values (a CVC) only where they stand alone, so "123" does not eat "41234".
        parts.append(rf"(?<![0-9A-Za-z]){escaped}(?![0-9A-Za-z])" if len(variant) < 8 else escaped)
    return re.compile("|".join(parts)) if parts else None
