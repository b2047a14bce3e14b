"""The unified request fields the unified schemas mark: `x-card-data`, the fields that hold card
data (PCI scope) and other payment credentials (card number and CVC, network-token and wallet
cryptograms, wallet tokens, bank account numbers, 3DS authentication values) — the linter keeps
them out of URLs, the public boundary scrubs their values from every error; and
`x-refused-unless-read`, the fields a spec must read to be given them (engine._build)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any
from urllib.parse import urljoin

from ._requests import request_schema, resolve_ref
from ._unified import FLOWS

#: The unified schemas' annotation of a field holding card data (PCI scope).
CARD_DATA = "x-card-data"


def marked_paths(flow: str, marker: str) -> dict[tuple[str, ...], Any]:
    """The request field paths (below `request`) of `flow` whose schema carries `marker`,
    each with its schema (for its default)."""
    found: dict[tuple[str, ...], Any] = {}

    def walk(node: Any, base: str, path: tuple[str, ...], seen: frozenset[str]) -> None:
        if not isinstance(node, Mapping):
            return
        if node.get(marker) is True:
            found[path] = node
        ref = node.get("$ref")
        if isinstance(ref, str) and f"{base}{ref}" not in seen:
            target = urljoin(base, ref.split("#", 1)[0]) if not ref.startswith("#") else base
            walk(resolve_ref(ref, base), target, path, seen | {f"{base}{ref}"})
        for name, sub in (node.get("properties") or {}).items():
            walk(sub, base, (*path, name), seen)
        for key in ("allOf", "anyOf", "oneOf"):
            for sub in node.get(key) or ():
                walk(sub, base, path, seen)
        for key in ("if", "then", "else"):
            walk(node.get(key), base, path, seen)

    schema = request_schema(flow)
    walk(schema, str(schema["$id"]), (), frozenset())
    return found


@cache
def card_data_paths() -> frozenset[tuple[str, ...]]:
    """The request field paths (below `request`) the unified schemas mark `x-card-data`."""
    return frozenset(path for flow in FLOWS for path in marked_paths(flow, CARD_DATA))


#: The unified schemas' annotation of a field that changes what the payment means (an external
#: 3DS authentication, a merchant-initiated stored credential, a MOTO channel, a capture that is
#: not the last): a spec that never reads it would send the payment without it, so a request
#: giving it to such a spec is refused before sending (engine._build).
NEEDS_SUPPORT = "x-refused-unless-read"


@cache
def needs_support(flow: str) -> tuple[tuple[tuple[str, ...], Any], ...]:
    """(path, the value meaning "not asked for") of `flow`'s fields marked NEEDS_SUPPORT."""
    return tuple(
        (path, schema.get("default", False if schema.get("type") == "boolean" else None))
        for path, schema in sorted(marked_paths(flow, NEEDS_SUPPORT).items())
    )


@cache
def _card_data_tree() -> dict[str, Any]:
    """card_data_paths as a tree of keys (a path's end: `_END`), walked once per request: the
    paths under a key the request does not have are skipped together."""
    tree: dict[str, Any] = {}
    for path in sorted(card_data_paths()):
        node = tree
        for part in path:
            node = node.setdefault(part, {})
        node[_END] = True
    return tree


_END = ""  # no request field is named the empty text


def card_data_values(request: Any) -> list[str]:
    """The values a unified request holds at those fields (strings, for scrubbing), in the
    order of their sorted paths."""
    found: list[str] = []
    _values_in(request, _card_data_tree(), found)
    return found


def _values_in(node: Any, tree: Mapping[str, Any], found: list[str]) -> None:
    if _END in tree and isinstance(node, str | int) and not isinstance(node, bool) and str(node):
        found.append(str(node))
    if type(node) is not dict and not isinstance(node, Mapping):
        return
    for key, below in tree.items():
        if key != _END:
            child = node.get(key)
            if child is not None:
                _values_in(child, below, found)
