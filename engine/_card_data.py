"""Which unified request fields hold card data (PCI scope) and other payment credentials: the
fields the unified schemas mark `x-card-data` (card number and CVC, network-token and wallet
cryptograms, wallet tokens, bank account numbers, 3DS authentication values). The linter keeps
them out of URLs; the public boundary scrubs their values from every error."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any
from urllib.parse import urljoin

from ._requests import request_schema, resolve_ref
from ._unified import FLOWS

#: The unified schemas' annotation of a field holding card data (PCI scope).
CARD_DATA = "x-card-data"


@cache
def card_data_paths() -> frozenset[tuple[str, ...]]:
    """The request field paths (below `request`) the unified schemas mark `x-card-data`."""
    found: set[tuple[str, ...]] = set()

    def walk(node: Any, base: str, path: tuple[str, ...], seen: frozenset[str]) -> None:
        if not isinstance(node, Mapping):
            return
        if node.get(CARD_DATA) is True:
            found.add(path)
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

    for flow in FLOWS:
        schema = request_schema(flow)
        walk(schema, str(schema["$id"]), (), frozenset())
    return frozenset(found)


def card_data_values(request: Any) -> list[str]:
    """The values a unified request holds at those fields (strings, for scrubbing)."""
    found: list[str] = []
    for path in card_data_paths():
        node: Any = request
        for part in path:
            node = node.get(part) if isinstance(node, Mapping) else None
        if isinstance(node, str | int) and not isinstance(node, bool) and str(node):
            found.append(str(node))
    return found
