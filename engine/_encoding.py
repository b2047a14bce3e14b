"""Request bodies → bytes (JSON, form with bracket nesting), and response bytes → data."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import quote_plus


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
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _encode_form(body: Any) -> bytes:
    if not isinstance(body, Mapping):
        raise TypeError("a form body must be a mapping")
    pairs: list[str] = []
    _append_form(body, "", pairs)
    return "&".join(pairs).encode("ascii")


def _append_form(value: Any, prefix: str, out: list[str]) -> None:
    """The same pairs as flatten_form, quoted straight into `out` (the hot path)."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            _append_form(item, f"{prefix}[{key}]" if prefix else str(key), out)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _append_form(item, f"{prefix}[{index}]", out)
    elif value is not None:
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        out.append(f"{quote_plus(prefix)}={quote_plus(text)}")


#: encoding name → (encode, Content-Type, description).
ENCODERS: Mapping[str, tuple[Callable[[Any], bytes], str, str]] = {
    "json": (_encode_json, "application/json", "JSON, UTF-8, compact."),
    "form": (
        _encode_form,
        "application/x-www-form-urlencoded",
        "Form encoding with bracket nesting: `a[b]=1`, `list[0]=x`; booleans as true/false.",
    ),
}


class DecodeError(ValueError):
    """The response body could not be decoded as the spec said."""


def _decode_json(body: bytes) -> Any:
    if not body.strip():
        raise DecodeError("empty body")
    try:
        return json.loads(body.decode("utf-8-sig"))
    # ValueError also covers an integer too long to convert; RecursionError, deep nesting.
    except (ValueError, RecursionError) as exc:
        raise DecodeError(f"not JSON: {type(exc).__name__}") from None


def _decode_text(body: bytes) -> Any:
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DecodeError("not UTF-8 text") from None


DECODERS: Mapping[str, Callable[[bytes], Any]] = {"json": _decode_json, "text": _decode_text}
