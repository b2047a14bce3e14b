"""Unified request schemas → hypothesis strategies of valid requests, and the catalogue of
single-field mutations that make a valid request invalid, each with the JSON pointer the
engine must name.

Written from schemas/unified/*.json directly (their own `$ref`s resolved here, not by the
engine), so the generator follows the schemas as they change. Only the keywords those schemas
use are understood; a new keyword fails loudly rather than being ignored.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from hypothesis import strategies as st

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas" / "unified"

#: Keywords that only describe: they constrain nothing a generator must honour.
#: Annotations only (`x-card-data` marks the fields lint keeps out of URLs): they constrain nothing.
_ANNOTATIONS = frozenset(
    {
        "$schema",
        "$id",
        "$defs",
        "title",
        "description",
        "format",
        "default",
        "x-card-data",
        "x-refused-unless-read",
        "contentEncoding",  # an annotation in 2020-12; the pattern constrains the text
    }
)
#: Keywords this generator understands.
_UNDERSTOOD = frozenset(
    {
        "$ref",
        "type",
        "enum",
        "const",
        "properties",
        "required",
        "additionalProperties",
        "propertyNames",
        "maxProperties",
        "dependentRequired",
        "allOf",
        "pattern",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "items",
        "minItems",
        "minProperties",
        "maxItems",
    }
)

#: Text kept short and printable-or-not: any Unicode scalar value but surrogates.
_TEXT = st.characters(codec="utf-8")


@cache
def _documents() -> Mapping[str, Any]:
    docs = {}
    for path in sorted(SCHEMAS.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        docs[doc["$id"]] = doc
    return docs


def request_schema(flow: str) -> tuple[Mapping[str, Any], str]:
    """The request schema of `flow` and its `$id` (the base its `$ref`s resolve against)."""
    for base, doc in _documents().items():
        if base.endswith(f"/{flow}.request.json"):
            return doc, base
    raise KeyError(flow)


def resolve(node: Mapping[str, Any], base: str) -> tuple[Mapping[str, Any], str]:
    """`node` with its `$ref` followed (sibling keywords kept), and the base it now lives in."""
    if "$ref" not in node:
        return node, base
    ref = node["$ref"]
    address, _, fragment = ref.partition("#")
    target_base = urljoin(base, address) if address else base
    target: Any = _documents()[target_base]
    for token in filter(None, fragment.split("/")):
        target = target[token]
    merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return resolve(merged, target_base)


def _check_keywords(schema: Mapping[str, Any]) -> None:
    unknown = set(schema) - _UNDERSTOOD - _ANNOTATIONS
    assert not unknown, f"the request generator does not understand {sorted(unknown)}"


def join(pointer: str, token: str) -> str:
    return f"{pointer}/{token.replace('~', '~0').replace('/', '~1')}"


@dataclass(frozen=True)
class Fit:
    """What one processor needs beyond the schema, so a generated request is one it accepts:
    pointers that must be present, pointers left out, and allowed values by pointer."""

    forced: frozenset[str] = frozenset()
    omitted: frozenset[str] = frozenset()
    choices: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    #: Characters the processor's encoding cannot carry (left out of generated text).
    unwritable: re.Pattern[str] | None = None

    def forces_below(self, pointer: str) -> bool:
        return any(p == pointer or p.startswith(pointer + "/") for p in self.forced)


def _discriminated(schema: Mapping[str, Any]) -> list[tuple[str, Any, list[str]]]:
    """`allOf: [{if: {properties: {k: {const: v}}}, then: {required: [...]}}]` as (k, v, keys)."""
    rules = []
    for item in schema.get("allOf", []):
        assert set(item) == {"if", "then"}, f"unsupported allOf item {item}"
        ((key, condition),) = item["if"]["properties"].items()
        rules.append((key, condition["const"], list(item["then"]["required"])))
    return rules


def values(schema: Mapping[str, Any], base: str, pointer: str, fit: Fit) -> st.SearchStrategy[Any]:
    """Valid values of `schema` at `pointer`."""
    schema, base = resolve(schema, base)
    _check_keywords(schema)
    if pointer in fit.choices:
        return st.sampled_from(fit.choices[pointer])
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "object":
        return _objects(schema, base, pointer, fit)
    if kind == "string":
        bad = fit.unwritable
        return (
            _strings(schema)
            if bad is None
            else _strings(schema).filter(lambda text: not bad.search(text))
        )
    if kind == "integer":
        low = schema.get("minimum", -(10**6))
        return st.integers(low, schema.get("maximum", low + 10**6))
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        item = schema["items"]
        low = schema.get("minItems", 0)
        return st.lists(
            values(item, base, join(pointer, "0"), fit),
            min_size=low,
            max_size=max(low, min(schema.get("maxItems", 3), 3)),
        )
    raise AssertionError(f"{pointer}: the generator has no rule for {schema}")


def _strings(schema: Mapping[str, Any]) -> st.SearchStrategy[str]:
    low, high = schema.get("minLength", 0), schema.get("maxLength", 40)
    if "pattern" not in schema:
        return st.text(_TEXT, min_size=low, max_size=min(high, low + 40))
    pattern = schema["pattern"]
    # A pattern anchored only at the start ("^https?://") may be followed by anything.
    full = pattern if pattern.endswith("$") else pattern + ".{0,40}"
    return st.from_regex(full, fullmatch=True).filter(lambda s: low <= len(s) <= high)


@st.composite
def _objects(
    draw: st.DrawFn, schema: Mapping[str, Any], base: str, pointer: str, fit: Fit
) -> dict[str, Any]:
    properties: Mapping[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))
    rules = _discriminated(schema)
    out: dict[str, Any] = {}
    for name in required:
        out[name] = draw(values(properties[name], base, join(pointer, name), fit))
    # Discriminators first: a branch's keys are present for its value only.
    branch_keys = {key for _, _, keys in rules for key in keys}
    for key, value, keys in rules:
        if out.get(key) == value:
            for name in keys:
                out[name] = draw(values(properties[name], base, join(pointer, name), fit))
    for name in sorted(properties):
        child = join(pointer, name)
        if name in out or name in branch_keys or child in fit.omitted:
            continue
        if fit.forces_below(child) or draw(st.booleans()):
            out[name] = draw(values(properties[name], base, child, fit))
    extra = schema.get("additionalProperties", True)
    if isinstance(extra, Mapping):
        names = resolve(schema.get("propertyNames", {}), base)[0]
        keys = draw(
            st.lists(
                _strings({"maxLength": names.get("maxLength", 40)}),
                max_size=min(schema.get("maxProperties", 4), 4),
                unique=True,
            )
        )
        for key in keys:
            if key not in properties:
                out[key] = draw(values(extra, base, join(pointer, key), fit))
    # minProperties: the optional members in order, until there are enough.
    for name in sorted(properties):
        if len(out) >= schema.get("minProperties", 0):
            break
        child = join(pointer, name)
        if name not in out and child not in fit.omitted:
            out[name] = draw(values(properties[name], base, child, fit))
    for trigger, needed in schema.get("dependentRequired", {}).items():
        if trigger in out:
            for name in needed:
                if name not in out:
                    out[name] = draw(values(properties[name], base, join(pointer, name), fit))
    return out


# ---- mutations --------------------------------------------------------------------------------

#: One value of each JSON type: a wrong-type mutation picks one the schema does not allow.
_PROBES: tuple[tuple[str, Any], ...] = (
    ("string", "x"),
    ("integer", 7),
    ("number", 1.5),
    ("boolean", True),
    ("object", {}),
    ("array", []),
    ("null", None),
)

#: The value of an edit that deletes the field.
DELETE: Any = object()


@dataclass(frozen=True)
class Mutation:
    """One field of a valid request made invalid: what kind of change, the edit (pointer and
    new value, or DELETE), and the pointer the engine must name."""

    kind: str
    pointer: str
    value: Any
    expected_pointer: str

    def apply(self, request: Any) -> Any:
        """A deep copy of `request` with the edit made."""
        if not self.pointer:
            return copy.deepcopy(self.value)
        out = copy.deepcopy(request)
        tokens = [t.replace("~1", "/").replace("~0", "~") for t in self.pointer.split("/")[1:]]
        parent = out
        for token in tokens[:-1]:
            parent = parent[int(token)] if isinstance(parent, list) else parent[token]
        last: Any = int(tokens[-1]) if isinstance(parent, list) else tokens[-1]
        if self.value is DELETE:
            del parent[last]
        else:
            parent[last] = copy.deepcopy(self.value)
        return out

    def __repr__(self) -> str:  # hypothesis prints it on failure: keep it short
        shown = "<delete>" if self.value is DELETE else repr(self.value)[:60]
        edit = f"{self.pointer or '/'} = {shown}"
        return f"Mutation({self.kind}: {edit}; expect {self.expected_pointer})"


def _allowed_types(schema: Mapping[str, Any]) -> set[str] | None:
    kind = schema.get("type")
    if kind is None:
        return None
    allowed = {kind} if isinstance(kind, str) else set(kind)
    if "number" in allowed:
        allowed.add("integer")
    return allowed


def _violating_string(schema: Mapping[str, Any]) -> str | None:
    """A string within the length limits that the pattern refuses."""
    low, high = schema.get("minLength", 0), schema.get("maxLength", 10**6)
    for candidate in ("", "!", "a b", "ZZ", "not-matching text", "1"):
        if low <= len(candidate) <= high and not re.search(schema["pattern"], candidate):
            return candidate
    return None


def mutations(request: Mapping[str, Any], flow: str) -> list[Mutation]:
    """Every single-field mutation of `request` (valid for `flow`) the catalogue knows."""
    schema, base = request_schema(flow)
    found = list(_mutations(request, schema, base, ""))
    if isinstance(request.get("currency"), str):
        # Well-formed, but not a code ISO 4217 lists: refused by the engine's currency table.
        found.append(Mutation("unknown currency", "/currency", "ZZZ", "/currency"))
    return found


def _mutations(
    value: Any, schema: Mapping[str, Any], base: str, pointer: str
) -> Iterator[Mutation]:
    schema, base = resolve(schema, base)
    shown = pointer or "/"  # the engine names the whole request "/"
    allowed = _allowed_types(schema)
    if allowed is not None or "enum" in schema:
        for name, probe in _PROBES:
            if (allowed is not None and name in allowed) or probe in schema.get("enum", ()):
                continue
            yield Mutation(f"wrong type ({name})", pointer, probe, shown)
    if "enum" in schema:
        yield Mutation("unknown enum value", pointer, "not_a_member", shown)
    if "minimum" in schema:
        yield Mutation("below minimum", pointer, schema["minimum"] - 1, shown)
    if "maximum" in schema:
        yield Mutation("above maximum", pointer, schema["maximum"] + 1, shown)
    if schema.get("minLength", 0) > 0 and "pattern" not in schema:
        yield Mutation("too short", pointer, "", shown)
    if "maxLength" in schema and "pattern" not in schema:
        yield Mutation("too long", pointer, "a" * (schema["maxLength"] + 1), shown)
    if "pattern" in schema:
        bad = _violating_string(schema)
        if bad is not None:
            yield Mutation("pattern mismatch", pointer, bad, shown)
    if isinstance(value, Mapping):
        yield from _object_mutations(value, schema, base, pointer)
    if isinstance(value, list) and value:  # the first item stands for every item
        yield from _mutations(value[0], schema["items"], base, join(pointer, "0"))
    if isinstance(value, list) and "maxItems" in schema:
        crowd = (value * (schema["maxItems"] + 1))[: schema["maxItems"] + 1] if value else None
        if crowd:
            yield Mutation("too many items", pointer, crowd, shown)


def _object_mutations(
    value: Mapping[str, Any], schema: Mapping[str, Any], base: str, pointer: str
) -> Iterator[Mutation]:
    properties: Mapping[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))
    for key, expected, keys in _discriminated(schema):
        if value.get(key) == expected:
            required.update(keys)
    for trigger, needed in schema.get("dependentRequired", {}).items():
        if trigger in value:
            required.update(needed)
    # A missing field is named by its own pointer (the engine's convention for `required`).
    for name in sorted(required & set(value)):
        yield Mutation("missing required", join(pointer, name), DELETE, join(pointer, name))
    extra = schema.get("additionalProperties", True)
    if extra is False:
        name = join(pointer, "unexpected_field")
        yield Mutation("unknown property", name, "x", name)
    elif isinstance(extra, Mapping):
        extra_schema, _ = resolve(extra, base)
        allowed = _allowed_types(extra_schema) or set()
        wrong = next(probe for kind, probe in _PROBES if kind not in allowed)
        yield Mutation("bad extra value", join(pointer, "k"), wrong, join(pointer, "k"))
        names = resolve(schema.get("propertyNames", {}), base)[0]
        if "maxLength" in names:
            # The bad thing is the key itself, so the pointer names that key.
            long_name = join(pointer, "k" * (names["maxLength"] + 1))
            yield Mutation("property name too long", long_name, "v", long_name)
        if "maxProperties" in schema:
            crowd = {f"k{i}": "v" for i in range(schema["maxProperties"] + 1)}
            yield Mutation("too many properties", pointer, crowd, pointer or "/")
    for name in sorted(set(value) & set(properties)):
        yield from _mutations(value[name], properties[name], base, join(pointer, name))
