"""Request bodies → bytes (JSON, form with bracket nesting, XML), and response bytes → data.

XML uses xmltodict's conventions both ways: `@name` keys are attributes, `#text` is text
content, a list is a repeated element. Parsing refuses entity declarations (no expansion, no
external entities) and never fetches a DTD.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, quote_plus
from xml.parsers.expat import ExpatError

from ._errors import RenderError


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def flatten_form(value: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    """{"metadata": {"k": "v"}, "types": ["card"]} → metadata[k]=v, types[0]=card."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            name = f"{prefix}[{key}]" if prefix else str(key)
            yield from flatten_form(item, name)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from flatten_form(item, f"{prefix}[{index}]")
    elif value is not None:
        yield prefix, _scalar_text(value)


def _encode_json(body: Any) -> bytes:
    try:
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    except TypeError:
        if not _holds_decimal(body):
            raise
    # A major-unit amount (amounts.format major_number) is a Decimal: json writes no Decimal,
    # and a float would round it, so its digits go out as they are (the slow path, taken only
    # by bodies that hold one).
    return "".join(_exact_json(body)).encode("utf-8")


def _holds_decimal(value: Any) -> bool:
    if isinstance(value, Decimal):
        return True
    if isinstance(value, Mapping):
        return any(_holds_decimal(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_holds_decimal(v) for v in value)
    return False


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _exact_json(value: Any) -> Iterator[str]:
    """The same text json.dumps writes (compact, non-ASCII kept), and a finite Decimal as the
    JSON number of its digits (plain notation, never an exponent)."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("a non-finite Decimal is no JSON number")
        yield format(value, "f")
    elif isinstance(value, Mapping):
        yield "{"
        for index, (key, item) in enumerate(value.items()):
            # json.dumps writes a non-string key as the text of its JSON value ("1", "true").
            text = key if isinstance(key, str) else _dump(key).strip('"')
            yield ("," if index else "") + _dump(text) + ":"
            yield from _exact_json(item)
        yield "}"
    elif isinstance(value, list | tuple):
        yield "["
        for index, item in enumerate(value):
            if index:
                yield ","
            yield from _exact_json(item)
        yield "]"
    else:
        yield _dump(value)


def _encode_form(body: Any) -> bytes:
    if not isinstance(body, Mapping):
        raise TypeError("a form body must be a mapping")
    pairs: list[str] = []
    _append_form(body, "", pairs)
    return "&".join(pairs).encode("ascii")


#: Text quote_plus leaves as it is (its always-safe set); most values are, so they skip it.
_UNQUOTED = re.compile(r"[A-Za-z0-9_.~-]*").fullmatch


@functools.lru_cache(maxsize=2048)
def _quoted_name(name: str) -> str:
    """Field names repeat on every request (they come from the spec), so each is quoted once."""
    return quote_plus(name)


def _append_form(value: Any, prefix: str, out: list[str]) -> None:
    """The same pairs as flatten_form, quoted straight into `out` (the hot path)."""
    kind = type(value)
    if kind is str:  # the exact types first: no ABC check for the common leaves
        quoted = value if _UNQUOTED(value) else quote_plus(value)
        out.append(f"{_quoted_name(prefix)}={quoted}")
    elif kind is int:
        out.append(f"{_quoted_name(prefix)}={value}")
    elif kind is dict or isinstance(value, Mapping):
        for key, item in value.items():
            _append_form(item, f"{prefix}[{key}]" if prefix else str(key), out)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _append_form(item, f"{prefix}[{index}]", out)
    elif value is not None:
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        quoted = text if _UNQUOTED(text) else quote_plus(text)
        out.append(f"{_quoted_name(prefix)}={quoted}")


#: Characters XML 1.0 cannot carry at all, not even as a character reference.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
#: Stands for a carriage return until the document is written (a parser reads a literal CR as
#: LF, so it must go out as `&#13;`). NUL can stand in: it is refused in every value.
_CR_MARK = "\x00"


def _xml_text(value: Any, pointer: str) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return {k: _xml_text(v, f"{pointer}/{k}") for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_xml_text(v, f"{pointer}/{i}") for i, v in enumerate(value)]
    if value is None:
        return None
    text = str(value)
    bad = _NOT_XML.search(text)
    if bad:
        # Refused, not dropped: a payment must not go out with a silently changed value.
        raise RenderError(pointer, f"U+{ord(bad.group()):04X} cannot be written in XML 1.0")
    return text.replace("\r", _CR_MARK)


def encode_xml(body: Any, doctype: str | None = None) -> bytes:
    """A mapping with one root key → an XML document (UTF-8), with an optional DOCTYPE line.
    A value XML 1.0 cannot carry (most control characters) raises RenderError: nothing is sent."""
    if not isinstance(body, Mapping) or len(body) != 1:
        raise TypeError("an XML body must be a mapping with exactly one root element")
    import xmltodict  # imported on first XML use: most processors speak JSON

    xml = xmltodict.unparse(_xml_text(body, "/body"), full_document=False)
    head = '<?xml version="1.0" encoding="UTF-8"?>\n' + (doctype + "\n" if doctype else "")
    return (head + xml.replace(_CR_MARK, "&#13;")).encode("utf-8")


def _encode_xml(body: Any) -> bytes:
    return encode_xml(body)


#: encoding name → (encode, Content-Type, description).
ENCODERS: Mapping[str, tuple[Callable[[Any], bytes], str, str]] = {
    "json": (_encode_json, "application/json", "JSON, UTF-8, compact."),
    "form": (
        _encode_form,
        "application/x-www-form-urlencoded",
        "Form encoding with bracket nesting: `a[b]=1`, `list[0]=x`; booleans as true/false.",
    ),
    "xml": (
        _encode_xml,
        "text/xml",
        "XML: one root key; `@name` keys are attributes, `#text` is text, a list repeats an "
        "element; `xml_doctype` adds a DOCTYPE line.",
    ),
}


class DecodeError(ValueError):
    """The response body could not be decoded as the spec said."""


class _DuplicateKey(ValueError):
    pass


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose keys are unique: `{"status": "failed", "status": "succeeded"}` means
    what the reader decides (Python keeps the last, others the first), so it is refused."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise _DuplicateKey("duplicate key in a JSON object")
    return obj


def _decode_json(body: bytes) -> Any:
    if not body.strip():
        raise DecodeError("empty body")
    try:
        return json.loads(body.decode("utf-8-sig"), object_pairs_hook=_unique_object)
    # ValueError also covers an integer too long to convert; RecursionError, deep nesting.
    except _DuplicateKey:
        raise DecodeError("ambiguous JSON: an object repeats a key") from None
    except (ValueError, RecursionError) as exc:
        raise DecodeError(f"not JSON: {type(exc).__name__}") from None


def _decode_text(body: bytes) -> Any:
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DecodeError("not UTF-8 text") from None


def parse_xml(text: str | bytes) -> Any:
    """XML → data with xmltodict's conventions; entity declarations are refused."""
    import xmltodict

    try:
        return xmltodict.parse(text, disable_entities=True)
    except (ValueError, ExpatError) as exc:
        raise DecodeError(f"not XML: {type(exc).__name__}") from None


def _decode_xml(body: bytes) -> Any:
    if not body.strip():
        raise DecodeError("empty body")
    return parse_xml(body.removeprefix(b"\xef\xbb\xbf"))


def _decode_form(body: bytes) -> Any:
    try:
        pairs = parse_qsl(body.decode("utf-8-sig"), keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        raise DecodeError("not a form body") from None
    decoded = dict(pairs)
    if len(decoded) != len(pairs):
        raise DecodeError("ambiguous form body: a key is repeated")
    return decoded


def _decode_none(body: bytes) -> Any:
    return None


DECODERS: Mapping[str, Callable[[bytes], Any]] = {
    "none": _decode_none,
    "json": _decode_json,
    "text": _decode_text,
    "xml": _decode_xml,
    "form": _decode_form,
}
