"""Template variable paths → checked against what the render context really holds
(the unified request schema, the spec's declared credentials)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from ._requests import resolve_ref
from ._templates import METHOD_NAMES, VariablePath


@dataclass(frozen=True, slots=True)
class Shape:
    """What a context root holds: a JSON schema (with the base URI its `$ref`s resolve
    against), or None for "anything" (a processor's response body)."""

    schema: Mapping[str, Any] | None
    base: str = ""


ANY = Shape(None)


def closed_object(names: list[str], *, open_members: bool = False) -> Shape:
    """An object with exactly these members; with `open_members`, each holds anything (a step's
    answer), else a plain value (a credential)."""
    return Shape(
        {
            "type": "object",
            "additionalProperties": False,
            "properties": {n: None if open_members else {} for n in names},
        }
    )


def check_path(path: VariablePath, roots: Mapping[str, Shape]) -> str | None:
    """None when `path` can exist in the context; else a message saying what is wrong."""
    if path.root not in roots:
        close = difflib.get_close_matches(path.root, list(roots), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"unknown variable {path.root!r}{hint} (available: {', '.join(sorted(roots))})"
    shape = roots[path.root]
    schema, base = shape.schema, shape.base
    walked = [path.root]
    for segment in path.segments:
        if schema is None:
            return None
        schema, base = _deref(schema, base)
        if isinstance(segment, int):
            items = schema.get("items")
            if not isinstance(items, Mapping):
                return f"{'.'.join(walked)} is not a list"
            schema = items
            walked.append(str(segment))
            continue
        properties = _properties(schema, base)
        if segment in properties:
            schema = properties[segment]
        elif isinstance(schema.get("additionalProperties"), Mapping):
            schema = schema["additionalProperties"]
        elif segment in METHOD_NAMES:
            return None
        else:
            close = difflib.get_close_matches(segment, list(properties), n=1)
            hint = f"; did you mean {'.'.join([*walked, close[0]])!r}?" if close else ""
            return f"{'.'.join(walked)} has no field {segment!r}{hint}"
        walked.append(segment)
    return None


_DOTTED = re.compile(r"\s*([A-Za-z_]\w*)((?:\.[A-Za-z_]\w*)*)\s*")


def element_shape(expression: str, roots: Mapping[str, Shape]) -> Shape:
    """The shape of one element of the list `expression` names, when it is a plain dotted
    path whose schema says (`request.line_items` → a line item); else anything."""
    match = _DOTTED.fullmatch(expression)
    if match is None or match.group(1) not in roots:
        return ANY
    shape = roots[match.group(1)]
    schema, base = shape.schema, shape.base
    for segment in [s for s in match.group(2).split(".") if s]:
        if schema is None:
            return ANY
        schema, base = _deref(schema, base)
        properties = _properties(schema, base)
        if segment not in properties:
            return ANY
        schema = properties[segment]
    if schema is None:
        return ANY
    schema, base = _deref(schema, base)
    items = schema.get("items")
    return Shape(items, base) if isinstance(items, Mapping) else ANY


def _deref(schema: Mapping[str, Any], base: str) -> tuple[Mapping[str, Any], str]:
    while "$ref" in schema:
        ref = schema["$ref"]
        target = resolve_ref(ref, base)
        if not ref.startswith("#"):
            base = urljoin(base, ref.split("#", 1)[0])
        schema = target
    return schema, base


def _properties(schema: Mapping[str, Any], base: str) -> dict[str, Any]:
    """Properties of a schema and of its allOf/anyOf/oneOf/then branches."""
    found: dict[str, Any] = dict(schema.get("properties", {}))
    for key in ("allOf", "anyOf", "oneOf"):
        for branch in schema.get(key, []):
            branch_schema, branch_base = _deref(branch, base)
            found.update(_properties(branch_schema, branch_base))
    then = schema.get("then")
    if isinstance(then, Mapping):
        found.update(_properties(then, base))
    return found
