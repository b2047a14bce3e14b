"""Unified request + flow → accepted, or InputError naming the JSON pointer of a bad field.

Requests are checked against schemas/unified/<flow>.request.json. The hot path runs a
fastjsonschema validator generated from a flattened copy of the schema (ahead of time, by
`connector docs`: engine/_validator_cache.py); only a request it rejects goes through
jsonschema, which finds the precise field to name. jsonschema is the authority: a request is
refused only when jsonschema also refuses it.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urljoin

from ._amounts import is_known_currency
from ._errors import InputError, UnsupportedError, kind_of
from ._load import escape_pointer_token
from ._resources import load_schema, schemas_dir
from ._unified import FLOWS

if TYPE_CHECKING:  # jsonschema and referencing load on first use: they are slow imports
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError
    from referencing import Registry


@cache
def _registry() -> Registry[Any]:
    from referencing import Registry, Resource

    resources = []
    for path in sorted((schemas_dir() / "unified").glob("*.json")):
        schema = python_patterns(load_schema(f"unified/{path.name}"))
        resources.append((schema["$id"], Resource.from_contents(schema)))
    return Registry().with_resources(resources)


def python_patterns(node: Any) -> Any:
    """The schema with each `pattern`'s final `$` written `\\Z`. JSON Schema patterns are
    ECMA-262, where `$` ends the text; Python's `$` also matches before a final newline, so
    "4242424242424242\\n" would pass `^[0-9]{12,19}$` and be sent."""
    if isinstance(node, list):
        return [python_patterns(item) for item in node]
    if not isinstance(node, Mapping):
        return node
    out = {key: python_patterns(value) for key, value in node.items()}
    pattern = node.get("pattern")
    if isinstance(pattern, str) and pattern.endswith("$") and not pattern.endswith("\\$"):
        out["pattern"] = pattern[:-1] + "\\Z"
    return out


def unified_registry() -> Registry[Any]:
    return _registry()


@cache
def request_schema(flow: str) -> Mapping[str, Any]:
    if flow not in FLOWS:
        raise UnsupportedError(f"unknown flow {flow!r}; flows are: {', '.join(FLOWS)}")
    schema: Mapping[str, Any] = load_schema(f"unified/{flow}.request.json")
    return schema


@cache
def _documents() -> Mapping[str, Any]:
    """The unified schemas by `$id` (patterns as Python reads them, as in the registry)."""
    documents = {}
    for path in sorted((schemas_dir() / "unified").glob("*.json")):
        schema = python_patterns(load_schema(f"unified/{path.name}"))
        documents[schema["$id"]] = schema
    return documents


@cache
def resolve_ref(ref: str, base: str) -> Mapping[str, Any]:
    """The schema a `$ref` names, relative to the schema whose `$id` is `base` (the bundled
    schemas never change in a process, so each reference is looked up once). The unified
    schemas' references are `<file>#<JSON pointer>`, followed here; anything else goes to
    `referencing` (a slow import that compiling a flow then never needs)."""
    document, _, fragment = urljoin(base, ref).partition("#")
    node: Any = _documents().get(document)
    if node is not None and (fragment == "" or fragment.startswith("/")):
        for token in fragment.split("/")[1:]:
            name = token.replace("~1", "/").replace("~0", "~")
            node = node.get(name) if isinstance(node, Mapping) else None
        if isinstance(node, Mapping):
            return node
    resolved: Mapping[str, Any] = _registry().resolver(base).lookup(ref).contents
    return resolved


@cache
def _precise_validator(flow: str) -> Draft202012Validator:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(python_patterns(request_schema(flow)), registry=_registry())


_VALUE_KEYWORDS = frozenset({"enum", "const", "required", "default"})


def flatten_schema(node: Any, base: str) -> Any:
    """The schema with every `$ref` inlined and draft-2020-12-only keywords rewritten for
    draft 7 (`dependentRequired` → `dependencies`); annotations (`format`) dropped, as
    jsonschema does not assert them either. The unified schemas are not recursive."""
    if isinstance(node, list):
        return [flatten_schema(item, base) for item in node]
    if not isinstance(node, Mapping):
        return node
    if "$ref" in node:
        ref = node["$ref"]
        target_base = base if ref.startswith("#") else urljoin(base, ref.split("#", 1)[0])
        merged = dict(flatten_schema(resolve_ref(ref, base), target_base))
        merged.update(flatten_schema({k: v for k, v in node.items() if k != "$ref"}, base))
        return merged
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("$id", "$schema", "$defs", "format", "title", "description"):
            continue
        if key == "dependentRequired":
            out["dependencies"] = dict(value)
        elif key in _VALUE_KEYWORDS:
            out[key] = value
        elif key in ("properties", "patternProperties"):
            out[key] = {name: flatten_schema(sub, base) for name, sub in value.items()}
        else:
            out[key] = flatten_schema(value, base)
    return out


#: A discriminated object's rules, lifted out of the schema: at `path` (property names from
#: the request's root), when the object's `key` is the text `value`, `required` must be present.
Discriminator = tuple[tuple[str, ...], str, str, tuple[str, ...]]


def _discriminator(rule: Any) -> tuple[str, str, tuple[str, ...]] | None:
    """(key, value, required) of `{if: {properties: {key: {const: value}}, required: [key]},
    then: {required: [...]}}`, or None for any other rule."""
    if not isinstance(rule, Mapping) or set(rule) != {"if", "then"}:
        return None
    condition, then = rule["if"], rule["then"]
    if not isinstance(condition, Mapping) or set(condition) != {"properties", "required"}:
        return None
    if not isinstance(then, Mapping) or set(then) != {"required"}:
        return None
    properties = condition["properties"]
    if not isinstance(properties, Mapping) or len(properties) != 1:
        return None
    ((key, match),) = properties.items()
    if condition["required"] != [key] or not isinstance(match, Mapping) or set(match) != {"const"}:
        return None
    if not isinstance(match["const"], str):
        return None
    return key, match["const"], tuple(then["required"])


def lift_discriminators(node: Any, path: tuple[str, ...] = ()) -> tuple[Any, list[Discriminator]]:
    """The schema without its `allOf` lists of discriminator rules (`if` one key is a text,
    `then` other keys are required), and those rules. fastjsonschema runs each `if` by raising
    and catching an exception with a long message; the lifted rules are checked directly."""
    if not isinstance(node, Mapping):
        return node, []
    out = dict(node)
    found: list[Discriminator] = []
    rules = node.get("allOf")
    if isinstance(rules, list) and rules:
        parsed = [_discriminator(rule) for rule in rules]
        if all(p is not None for p in parsed):
            del out["allOf"]
            found += [(path, *p) for p in parsed if p is not None]
    properties = node.get("properties")
    if isinstance(properties, Mapping):
        lifted = {}
        for name, sub in properties.items():
            lifted[name], inner = lift_discriminators(sub, (*path, name))
            found += inner
        out["properties"] = lifted
    return out, found


def _discriminator_check(rules: list[Discriminator]) -> Callable[[Any], bool]:
    """Whether a request keeps `rules`, grouped by object: each object is found once, and its
    discriminating key looked up in a table."""
    tables: dict[tuple[tuple[str, ...], str], dict[str, tuple[str, ...]]] = {}
    for path, key, value, required in rules:
        table = tables.setdefault((path, key), {})
        table[value] = (*table.get(value, ()), *required)
    checks = tuple((path, key, table) for (path, key), table in tables.items())

    def holds(request: Any) -> bool:
        for path, key, table in checks:
            target: Any = request
            for name in path:
                target = target.get(name) if isinstance(target, Mapping) else None
            if not isinstance(target, Mapping):
                continue  # an absent object, or not an object: the rules say nothing of it
            found = target.get(key)
            required = table.get(found) if isinstance(found, str) else None
            if required is not None and any(r not in target for r in required):
                return False
        return True

    return holds


@cache
def _fast_validator(flow: str) -> Callable[[Any], Any]:
    import fastjsonschema  # imported on first use: loading a spec never needs it

    from ._validator_cache import compile_validator, flat_schema, generated

    # Generated ahead of time by `connector docs` when the schemas are those it was made from.
    ready = generated(flow)
    if ready is not None:
        validate, rules = ready
    else:
        flat, rules = flat_schema(flow)
        validate = compile_validator(flat)
    if not rules:
        return validate
    holds = _discriminator_check(rules)

    def validate_all(request: Any) -> Any:
        validate(request)
        if not holds(request):
            raise fastjsonschema.JsonSchemaValueException(
                "a discriminated object lacks a field its type requires"
            )
        return request

    return validate_all


def validate_request(flow: str, request: Any) -> None:
    """Raise InputError naming the JSON pointer of a bad field. Values never enter messages:
    a bad card number must not be echoed into an exception."""
    if not isinstance(request, Mapping):
        raise InputError("/", "the request must be a JSON object")
    check_keys(request)
    try:
        _fast_validator(flow)(request)
    except ValueError:  # fastjsonschema's rejection (JsonSchemaValueException) is a ValueError
        from jsonschema.exceptions import best_match

        error = best_match(_precise_validator(flow).iter_errors(request))
        if error is not None:
            pointer, message = _describe(error)
            raise InputError(pointer, message) from None
    currency = request.get("currency")
    if currency is not None and not is_known_currency(currency):
        raise InputError("/currency", "is not an ISO 4217 currency code")


def check_keys(request: Mapping[Any, Any]) -> None:
    """InputError at the first object holding a key that is not a string (an int, a tuple,
    None: JSON has none), named by the object's pointer and the key's position, never its
    value. Iterative, and each object once: a deep or self-containing request cannot make it
    recurse or loop."""
    if not _all_keys_strings(request):
        _locate_key(request)


#: Leaf types a request is made of: never containers, so never looked into.
_LEAVES = frozenset({str, int, float, bool, type(None)})


def _all_keys_strings(request: Mapping[Any, Any]) -> bool:
    """check_keys without pointers (the common case: they are only needed to report)."""
    pending: list[Any] = [request]
    seen: set[int] = set()
    leaves = _LEAVES
    while pending:
        value = pending.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        if type(value) is dict or isinstance(value, Mapping):
            for key in value:
                if type(key) is not str and not isinstance(key, str):
                    return False
            children: Iterable[Any] = value.values()
        elif isinstance(value, list | tuple):
            children = value
        else:
            continue
        for child in children:
            if type(child) not in leaves:
                pending.append(child)
    return True


def _locate_key(request: Mapping[Any, Any]) -> None:
    pending: list[tuple[str, Any]] = [("", request)]
    seen: set[int] = set()
    while pending:
        pointer, value = pending.pop()
        if id(value) in seen or not isinstance(value, Mapping | list | tuple):
            continue
        seen.add(id(value))
        if isinstance(value, Mapping):
            children = []
            for position, key in enumerate(value, 1):
                if not isinstance(key, str):
                    raise InputError(pointer, f"key #{position} is {kind_of(key)}, not a string")
                children.append((f"{pointer}/{escape_pointer_token(key)}", value[key]))
        else:
            children = [(f"{pointer}/{index}", item) for index, item in enumerate(value)]
        pending.extend(reversed(children))


def _pointer(parts: Any) -> str:
    return "".join(f"/{escape_pointer_token(p)}" for p in parts)


def _describe(error: ValidationError) -> tuple[str, str]:
    pointer = _pointer(error.absolute_path)
    kind, expected = error.validator, cast(Any, error.validator_value)
    if "propertyNames" in error.absolute_schema_path and isinstance(error.instance, str):
        # A bad key: named by its own pointer, as a bad value would be.
        return f"{pointer}/{escape_pointer_token(error.instance)}", "is not an accepted key"
    schema: Mapping[str, Any] = error.schema if isinstance(error.schema, Mapping) else {}
    if kind == "required":
        instance = error.instance if isinstance(error.instance, Mapping) else {}
        missing = next((name for name in expected if name not in instance), expected[0])
        return f"{pointer}/{escape_pointer_token(missing)}", "is required"
    if kind == "additionalProperties" and isinstance(error.instance, Mapping):
        known = list(schema.get("properties", {}))
        extra = sorted(k for k in error.instance if k not in known)
        name = extra[0] if extra else "?"
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"{pointer}/{escape_pointer_token(name)}", f"is not a known field{hint}"
    if kind == "dependentRequired":
        # Named like a plain missing field: the first one the present field needs.
        instance = error.instance if isinstance(error.instance, Mapping) else {}
        for field, needed in expected.items():
            missing = [name for name in needed if field in instance and name not in instance]
            if missing:
                return f"{pointer}/{escape_pointer_token(missing[0])}", (
                    f"is required with {field!r}"
                )
        return pointer, "is missing a field another one requires"
    if kind == "enum":  # not in the table below: it would join a non-list `expected` too
        return pointer, f"must be one of {', '.join(map(repr, expected))}"
    messages = {
        "type": f"must be of type {expected}",
        "const": f"must be {expected!r}",
        "pattern": "is not in the expected format",
        "minLength": f"must be at least {expected} characters long",
        "maxLength": f"must be at most {expected} characters long",
        "minimum": f"must be at least {expected}",
        "maximum": f"must be at most {expected}",
        "maxProperties": f"must have at most {expected} entries",
    }
    return pointer, messages.get(str(kind), f"is invalid ({kind})")
