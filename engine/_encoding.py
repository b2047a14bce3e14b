"""Request bodies → bytes (JSON, form with bracket nesting, XML, multipart/form-data), and
response bytes → data.

XML uses xmltodict's conventions both ways: `@name` keys are attributes, `#text` is text
content, a list is a repeated element. Parsing refuses entity declarations (no expansion, no
external entities) and never fetches a DTD.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import io
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
    # Imported on first XML use (most processors speak JSON; saxutils imports urllib.request).
    from xml.sax.saxutils import XMLGenerator
    from xml.sax.xmlreader import AttributesImpl

    out = io.StringIO()
    writer = XMLGenerator(out, "utf-8")
    ((root, value),) = _xml_text(body, "/body").items()
    _emit_xml(writer, AttributesImpl, root, value)
    head = '<?xml version="1.0" encoding="UTF-8"?>\n' + (doctype + "\n" if doctype else "")
    return (head + out.getvalue().replace(_CR_MARK, "&#13;")).encode("utf-8")


#: Element and attribute names already found writable (a spec's names, met on every request).
_WRITABLE_NAMES: set[str] = set()
_UNWRITABLE_XML_NAME = re.compile(r"""^[?!#]|[<>/"'=\s]""")


def _xml_name(name: Any, kind: str) -> str:
    """A name that cannot break out of its tag (xmltodict's check: no `<>/"'=`, no white
    space, not `?`/`!` first, nor `#`: `#comment` is no element); ValueError otherwise, as
    xmltodict raises."""
    if name in _WRITABLE_NAMES:
        return str(name)
    if not isinstance(name, str) or _UNWRITABLE_XML_NAME.search(name):
        raise ValueError(f"invalid {kind} name {name!r}")
    if len(_WRITABLE_NAMES) < 4096:
        _WRITABLE_NAMES.add(name)
    return name


def _emit_xml(writer: Any, attributes_of: Any, key: str, value: Any) -> None:
    """xmltodict.unparse's events for one element, for the values _xml_text gives (texts,
    None, mappings, lists): `@name` keys are attributes, `#text` the text, a list repeats the
    element, an empty list writes nothing, None an empty element. The stdlib's XMLGenerator
    escapes; the output is xmltodict's byte for byte (tests/unit/test_xml_encoding.py)."""
    name = _xml_name(key, "element")
    for item in value if isinstance(value, list) else (value,):
        if item is None or isinstance(item, str):
            writer.startElement(name, attributes_of({}))
            if item is not None:
                writer.characters(item)
            writer.endElement(name)
            continue
        text = None
        attributes: dict[str, str] = {}
        children = []
        for child, inner in item.items():
            if child == "#text":
                text = inner
            elif isinstance(child, str) and child.startswith("@"):
                attributes[_xml_name(child[1:], "attribute")] = "" if inner is None else inner
            elif not (isinstance(inner, list) and not inner):
                children.append((child, inner))
        writer.startElement(name, attributes_of(attributes))
        for child, inner in children:
            _emit_xml(writer, attributes_of, child, inner)
        if text is not None:
            writer.characters(text)
        writer.endElement(name)


def _encode_xml(body: Any) -> bytes:
    return encode_xml(body)


#: The most a multipart body may carry, every part together (decoded file bytes included): a
#: dispute's evidence is a few documents, never a bulk upload.
MULTIPART_MAX_BYTES = 12 * 1024 * 1024
#: The keys a multipart file part and a JSON part are written with (engine/_encoding.py).
FILE_PART_KEYS = frozenset({"filename", "content_type", "data"})
#: What a part's file name cannot carry in its Content-Disposition header: control characters
#: (CR, LF, NUL, ...; the unified schema refuses them too) and lone surrogates (no UTF-8).
_UNWRITABLE_NAME = re.compile("[\x00-\x1f\ud800-\udfff]")
_PART_CONTENT_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")
#: Where the multipart encoder writes the boundary it chose: the body starts with it.
MULTIPART_TYPE = "multipart/form-data"


def _file_part(name: str, value: Mapping[str, Any], pointer: str) -> tuple[Any, ...]:
    """{filename, content_type, data: base64} → an httpx file tuple (the bytes decoded), or
    {json: value[, filename]} → a part holding that JSON (Content-Type application/json)."""
    if "json" in value:
        if set(value) - {"json", "filename"}:
            raise RenderError(pointer, "a JSON part holds `json` and an optional `filename` only")
        filename = value.get("filename")
        return (name, (filename, _encode_json(value["json"]), "application/json"))
    if set(value) != FILE_PART_KEYS:
        raise RenderError(
            pointer,
            "a multipart part is a text, a list of texts, a file "
            "{filename, content_type, data (base64)} or a JSON part {json}",
        )
    filename, content_type, data = value["filename"], value["content_type"], value["data"]
    if not isinstance(filename, str) or not filename or _UNWRITABLE_NAME.search(filename):
        raise RenderError(
            f"{pointer}/filename",
            "a file part needs a file name without control characters or lone surrogates",
        )
    if not isinstance(content_type, str) or not _PART_CONTENT_TYPE.fullmatch(content_type):
        raise RenderError(f"{pointer}/content_type", "a file part needs a media type (a/b)")
    if not isinstance(data, str):
        raise RenderError(f"{pointer}/data", "a file's data is base64 text")
    try:
        content = base64.b64decode(data.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise RenderError(f"{pointer}/data", "a file's data is not valid base64") from None
    if not content:
        raise RenderError(f"{pointer}/data", "a file may not be empty")
    return (name, (filename, content, content_type))


def _multipart_parts(body: Any) -> tuple[list[tuple[str, str]], list[tuple[Any, ...]]]:
    if not isinstance(body, Mapping):
        raise TypeError("a multipart body must be a mapping")
    fields: list[tuple[str, str]] = []
    files: list[tuple[Any, ...]] = []
    size = 0
    for key, value in body.items():
        name = str(key)
        pointer = f"/body/{name}"
        items = list(value) if isinstance(value, list | tuple) else [value]
        for index, item in enumerate(items):
            at = f"{pointer}/{index}" if isinstance(value, list | tuple) else pointer
            if item is None:
                continue
            if isinstance(item, Mapping):
                part = _file_part(name, item, at)
                size += len(part[1][1])
                if size > MULTIPART_MAX_BYTES:  # named at the file that crosses the limit
                    raise RenderError(
                        f"{at}/data" if "data" in item else at,
                        f"a multipart body may carry at most {MULTIPART_MAX_BYTES} bytes "
                        "of files in all",
                    )
                files.append(part)
            elif isinstance(item, list | tuple):
                raise RenderError(at, "a multipart part may not be a list of lists")
            else:
                fields.append((name, _scalar_text(item)))
    return fields, files


def encode_multipart(body: Any) -> bytes:
    """A mapping → multipart/form-data (RFC 7578), written by httpx. Each key is a part name;
    its value a text, a list (one part each, the same name), a file part `{filename,
    content_type, data}` whose base64 `data` is decoded to the bytes sent, or a JSON part
    `{json}`. The boundary is derived from the content (the build is pure: no randomness) and
    never occurs in it; the body starts with it (`multipart_content_type` reads it back)."""
    import httpx

    fields, files = _multipart_parts(body)
    if not fields and not files:
        raise RenderError("/body", "a multipart body needs at least one part")
    digest = hashlib.sha256()
    for name, text in fields:
        digest.update(f"{name}\0{text}\0".encode())
    for name, (filename, content, content_type) in files:
        digest.update(f"{name}\0{filename}\0{content_type}\0".encode() + content)
    seed = digest.hexdigest()
    boundary = f"cs-{seed[:40]}"
    contents = [content for _, (_, content, _) in files] + [t.encode() for _, t in fields]
    while any(boundary.encode() in c for c in contents):  # astronomically unlikely
        seed = hashlib.sha256(seed.encode()).hexdigest()
        boundary = f"cs-{seed[:40]}"
    request = httpx.Request(
        "POST",
        "https://multipart.invalid/",
        data=dict(_grouped(fields)),
        files=files,
        headers={"Content-Type": f"{MULTIPART_TYPE}; boundary={boundary}"},
    )
    return request.read()


def _grouped(fields: list[tuple[str, str]]) -> Iterator[tuple[str, str | list[str]]]:
    grouped: dict[str, list[str]] = {}
    for name, text in fields:
        grouped.setdefault(name, []).append(text)
    for name, texts in grouped.items():
        yield name, texts if len(texts) > 1 else texts[0]


def multipart_content_type(body: bytes) -> str:
    """The Content-Type of a body `encode_multipart` wrote: its boundary is its first line."""
    boundary = body.split(b"\r\n", 1)[0].removeprefix(b"--").decode("ascii")
    return f"{MULTIPART_TYPE}; boundary={boundary}"


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
    "multipart": (
        encode_multipart,
        MULTIPART_TYPE,
        "multipart/form-data (RFC 7578, written by httpx), a boundary derived from the content. "
        "Each key is a part: a text, a list (one part each), a file `{filename, content_type, "
        "data}` whose base64 `data` is decoded to the bytes sent, or a JSON part `{json: "
        "value}`. Refused before sending: bad base64, an empty file, more than "
        f"{MULTIPART_MAX_BYTES} bytes in all, card data of the request, a body auth scheme "
        "(secrets never go in a part).",
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
