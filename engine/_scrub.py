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
    anything that looks like a card number.

    Cheap when nothing is to hide (the common case): each text is first searched for the
    case-folded forms of the secrets (a superset of what the pattern matches), and the
    pattern is compiled only once a text may hold one. A scrubber is never shared beyond
    what its owner (one request, one client) holds."""

    __slots__ = ("_added", "_base", "_needles", "_pattern", "_secrets", "_variants")

    def __init__(self, secrets: Iterable[str] = (), derived: Iterable[str] = ()) -> None:
        # `derived` are the values the auth scheme made from the secrets (header values and
        # their parts: base64 of id:secret, signatures): what was sent, learnt by the builder.
        self._secrets = tuple(secrets) + tuple(derived_parts(derived))
        self._variants: frozenset[str] | None = None
        # When made by `adding`: the scrubber extended and what was added (its variants are
        # then the base's, worked out once, plus the added values').
        self._base: Scrubber | None = None
        self._added: tuple[str, ...] = ()
        self._needles: tuple[str, ...] | None = None
        self._pattern: re.Pattern[str] | None = None

    def learn(self, *values: str) -> Scrubber:
        """A scrubber that also hides `values` (and their parts)."""
        return self.adding((), values)

    def adding(self, secrets: Iterable[str], derived: Iterable[str] = ()) -> Scrubber:
        """A scrubber that also hides `secrets`, and `derived` with their parts (see
        __init__); this one when it hides them all already (its work is then reused)."""
        known = set(self._secrets)
        new = []
        for value in (*secrets, *derived_parts(derived)):
            if value not in known:
                known.add(value)
                new.append(value)
        if not [value for value in new if value]:
            return self
        child = Scrubber((*self._secrets, *new))
        child._base, child._added = self, tuple(new)
        return child

    def joined(self, *others: Scrubber) -> Scrubber:
        """A scrubber that hides what this one and each of `others` hide."""
        return self.adding([s for other in others for s in other._secrets])

    def known(self, text: str) -> str:
        """`text` with the known secret values replaced (no card-number heuristic)."""
        if not self._may_hold(text):
            return text
        pattern = self._compiled()
        return pattern.sub(MASK, text) if pattern is not None else text

    def result(self, value: _T) -> _T:
        """A copy of a Result (or any frozen dataclass tree) whose strings are scrubbed:
        known secrets everywhere, card-number look-alikes too in free text (messages)."""
        texts: list[tuple[str, str]] = []
        _collect(value, "", texts)
        if not texts:
            return value
        hidden = self._may_hold("\x00".join(text for _, text in texts))
        if not hidden and not any(name in _FREE_TEXT and _PAN.search(t) for name, t in texts):
            return value  # nothing to replace: the tree as it is
        cleaned: _T = _scrub_tree(self, value)
        return cleaned

    def _may_hold(self, text: str) -> bool:
        """Whether `text` may hold a secret's variant: False is certain, True a maybe."""
        if not self._secrets:
            return False
        folded = text.casefold()
        return any(needle in folded for needle in self._searched())

    def _all_variants(self) -> frozenset[str]:
        if self._variants is None:
            if self._base is not None:
                self._variants = self._base._all_variants() | _variants_of(self._added)
                self._base = None  # what it held is now in this one's variants
            else:
                self._variants = _variants_of(self._secrets)
        return self._variants

    def _searched(self) -> tuple[str, ...]:
        if self._needles is None:
            if self._base is not None and self._variants is None:
                # The base's needles (worked out once) and the added values': each variant
                # still has a needle inside its folded form, which is all the search needs.
                added = _needles(_variants_of(self._added))
                self._needles = (*self._base._searched(), *added)
            else:
                self._needles = _needles(self._all_variants())
        return self._needles

    def _compiled(self) -> re.Pattern[str] | None:
        if self._pattern is None and self._secrets:
            self._pattern = _pattern_of(self._all_variants())
        return self._pattern

    def text(self, text: str) -> str:
        if self._may_hold(text):
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


#: A dataclass type's field names, but `access_token` (a wrapper that hides its value).
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        fields = dataclasses.fields(cls)
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields if f.name != "access_token")
    return names


def _is_instance(value: Any) -> bool:
    return dataclasses.is_dataclass(value) and not isinstance(value, type)


def _collect(value: Any, name: str, out: list[tuple[str, str]]) -> None:
    """Every string `_scrub_tree` would scrub, with the field name it is under."""
    names = _FIELD_NAMES.get(type(value))
    if names is not None:  # a dataclass seen before (a Result's members): no ABC checks
        for field in names:
            item = getattr(value, field)
            kind = type(item)
            if kind is str:
                out.append((field, item))
            elif item is not None and kind is not int and kind is not bool:
                _collect(item, field, out)
    elif isinstance(value, str):
        out.append((name, value))
    elif value is None or isinstance(value, int | float):
        return
    elif _is_instance(value):
        for field in _field_names(type(value)):
            _collect(getattr(value, field), field, out)
    elif isinstance(value, Mapping):
        for item in value.values():
            _collect(item, name, out)
    elif isinstance(value, list | tuple):
        for item in value:
            _collect(item, name, out)


def _scrub_tree(scrubber: Scrubber, value: Any, name: str = "") -> Any:
    if isinstance(value, str):
        return scrubber.text(value) if name in _FREE_TEXT else scrubber.known(value)
    if value is None or isinstance(value, int | float):
        return value
    if _is_instance(value):
        changes = {}
        for field in _field_names(type(value)):
            current = getattr(value, field)
            cleaned = _scrub_tree(scrubber, current, field)
            if cleaned is not current:
                changes[field] = cleaned
        return dataclasses.replace(value, **changes) if changes else value
    if isinstance(value, Mapping):
        return {k: _scrub_tree(scrubber, v, name) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_scrub_tree(scrubber, v, name) for v in value)
    return value


def _variants_of(secrets: Iterable[str]) -> frozenset[str]:
    """The forms in which `secrets` may be written back: plain, URL- and JSON-escaped, case
    changes, base64, Python reprs."""
    variants: set[str] = set()
    for secret in secrets:
        if not secret:
            continue
        if _PLAIN(secret):
            # Quoting, JSON and repr leave these characters as they are: only the case
            # changes and base64 differ (card numbers, CVCs, most keys).
            variants.update({secret, secret.upper(), secret.lower()})
            if len(secret) >= 8:
                raw = secret.encode("ascii")
                for encoded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
                    text = encoded.decode("ascii")
                    variants.update({text, text.rstrip("=")})
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
    variants.discard("")
    return frozenset(variants)


#: Text that quote, quote_plus, JSON and repr all write as it is.
_PLAIN = re.compile(r"[A-Za-z0-9_.~-]*").fullmatch


def _needles(variants: Iterable[str]) -> tuple[str, ...]:
    """The case-folded variants, less those holding a shorter one (found whenever they are):
    case folding maps each character on its own, so a text holding a variant holds its
    folded form once folded itself."""
    folded = sorted({v.casefold() for v in variants}, key=len)
    kept: list[str] = []
    for needle in folded:
        if not any(shorter in needle for shorter in kept):
            kept.append(needle)
    return tuple(kept)


def _pattern_of(variants: Iterable[str]) -> re.Pattern[str] | None:
    parts = []
    for variant in sorted(variants, key=lambda v: (-len(v), v)):
        escaped = re.escape(variant)
        # Short values (a CVC) only where they stand alone, so "123" does not eat "41234".
        parts.append(rf"(?<![0-9A-Za-z]){escaped}(?![0-9A-Za-z])" if len(variant) < 8 else escaped)
    return re.compile("|".join(parts)) if parts else None


def _secret_pattern(secrets: Iterable[str]) -> re.Pattern[str] | None:
    return _pattern_of(_variants_of(secrets))
