"""Which request fields a flow reads, found at load from the spec's text: the top-level fields
its request templates read (engine._compile's echo checks), and every request path its strings
mention (engine._build refuses an `x-refused-unless-read` field a flow never mentions)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ._templates import (
    ENVIRONMENT,
    PATH_ENVIRONMENT,
    TemplateCompileError,
    compile_template,
    is_template,
)

_REQUEST_PATH = re.compile(r"\brequest((?:\.[A-Za-z_][A-Za-z0-9_]*)*)(\s*[|\[(])?")


def split_method_scope(entry: str) -> tuple[str | None, str]:
    """A required_fields entry's payment method scope ("voucher.boleto: /customer/tax_id" →
    "voucher.boleto") and its pointers; no scope: None."""
    scope, sep, rest = entry.partition(": ")
    return (scope, rest) if sep and not scope.startswith("/") else (None, entry)


def mentioned_request_paths(sources: Any) -> frozenset[tuple[str, ...]] | None:
    """Every `request.a.b` a flow's strings mention (templates, `let`s, `$if` conditions,
    required fields), or None when one reads the request as a whole (`request | pick(...)`,
    `request[...]`). A mention over-approximates a read: it can only let a field through."""
    found: set[tuple[str, ...]] = set()
    whole = False

    def walk(value: Any) -> None:
        nonlocal whole
        if isinstance(value, Mapping):
            for key, item in value.items():
                if key == "required_fields" and isinstance(item, list):
                    for entry in item:  # JSON pointers: "/a/b | /c", maybe "kind.scheme: ..."
                        for pointer in split_method_scope(str(entry))[1].split(" | "):
                            found.add(tuple(filter(None, pointer.strip().split("/"))))
                    continue
                walk(key)
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str) and "request" in value:
            for match in _REQUEST_PATH.finditer(value):
                segments = tuple(filter(None, match.group(1).split(".")))
                if not segments:
                    whole = whole or match.group(2) is not None
                    continue
                found.add(segments)

    walk(sources)
    return None if whole else frozenset(found)


def top_level_reads(request: Mapping[str, Any]) -> frozenset[str]:
    """The top-level request fields a request's path, query and body templates read."""
    sources: list[str] = []

    def collect(value: Any) -> None:
        if isinstance(value, Mapping):
            for item in value.values():
                collect(item)
        elif isinstance(value, list):
            for item in value:
                collect(item)
        elif is_template(value):
            sources.append(value)

    collect(request.get("path"))
    path_sources = len(sources)
    collect([request.get("query"), request.get("body")])
    reads: set[str] = set()
    for index, source in enumerate(sources):
        # Each in the environment the flow compiles it with (one parse: compiled once each).
        environment = PATH_ENVIRONMENT if index < path_sources else ENVIRONMENT
        try:
            paths = compile_template(source, environment).paths
        except TemplateCompileError:  # reported where the template itself is compiled
            paths = ()
        reads.update(str(p.segments[0]) for p in paths if p.root == "request" and p.segments)
    return frozenset(reads)
