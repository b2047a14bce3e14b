"""Loaded spec data → every schema problem, located at file:line:col with a "did you mean", and
the part of the spec that is still well-formed enough for the compiler and lint rules to check
(so one schema problem does not hide the template and path problems of the rest)."""

from __future__ import annotations

import copy
import difflib
import re
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from ._errors import Problem
from ._load import LoadedSpec, escape_pointer_token
from ._resources import load_schema

SPEC_SCHEMA = "connector-spec.schema.json"


@cache
def spec_validator() -> Draft202012Validator:
    return Draft202012Validator(load_schema(SPEC_SCHEMA))


def validate_spec(spec: LoadedSpec) -> list[Problem]:
    return checkable_part(spec)[0]


def checkable_part(spec: LoadedSpec) -> tuple[list[Problem], LoadedSpec | None]:
    """Every schema problem, and the spec with each invalid subtree cut away (None when the
    document itself is unusable, e.g. not a mapping).

    The cut is a fixed point: remove every subtree an error is about (an unknown key alone, not
    its parent mapping; a list as a whole, so the pointers of what remains do not shift), then
    validate again, since removing a required member makes its parent invalid in turn. A top-level
    section that is missing is not an invalid root: it is recorded as cut, and the compiler and
    lint rules skip what they cannot check without it. Only the first pass's errors are reported:
    the later ones are consequences of the cut."""
    errors = list(spec_validator().iter_errors(spec.data))
    problems: dict[tuple[str, str], Problem] = {}
    for error in errors:
        for problem in _problems(error, spec):
            problems.setdefault((problem.pointer, problem.message), problem)
    found = list(problems.values())
    if not errors:
        return found, spec
    if not isinstance(spec.data, dict):
        return found, None
    data = copy.deepcopy(spec.data)
    cut: set[str] = set()
    while True:
        targets: set[tuple[str | int, ...]] = set()
        for error in errors:
            targets |= _invalid_parts(error, data, cut)
        if not targets:  # only missing sections remain
            break
        if () in targets:
            return found, None
        removed = False
        for target in sorted(targets, key=len):
            removed |= _remove(data, target)
            cut.add(_pointer(target))
        if not removed:  # nothing left to cut but errors remain: the rest is not checkable
            return found, None
        errors = list(spec_validator().iter_errors(data))
    return found, LoadedSpec(data, spec.source, frozenset(cut))


def _missing_section(error: ValidationError) -> bool:
    return error.validator == "required" and not error.absolute_path


def _invalid_parts(error: ValidationError, data: Any, cut: set[str]) -> set[tuple[str | int, ...]]:
    """The subtrees `error` is about, lifted out of lists (an item's removal would shift the
    pointers after it). A missing top-level section adds its pointer to `cut` instead."""
    path = tuple(error.absolute_path)
    instance: Any = error.instance
    schema: Mapping[str, Any] = error.schema if isinstance(error.schema, Mapping) else {}
    if _missing_section(error):
        missing: Any = error.validator_value
        cut.update(f"/{escape_pointer_token(n)}" for n in missing if n not in data)
        return set()
    if error.validator == "additionalProperties" and isinstance(instance, Mapping):
        known = schema.get("properties", {})
        parts = {(*path, name) for name in instance if name not in known}
    elif len(error.schema_path) >= 2 and error.schema_path[-2] == "propertyNames":
        parts = {(*path, str(instance))}
    else:
        parts = {path}
    return {_outside_lists(part, data) for part in parts}


def _outside_lists(path: tuple[str | int, ...], data: Any) -> tuple[str | int, ...]:
    parents = [data]
    for token in path[:-1]:
        parents.append(_child(parents[-1], token))
    while path and isinstance(parents[len(path) - 1], list):
        path = path[:-1]
    return path


def _child(parent: Any, token: str | int) -> Any:
    if isinstance(parent, dict):
        return parent.get(token)
    if isinstance(parent, list) and isinstance(token, int) and 0 <= token < len(parent):
        return parent[token]
    return None


def _remove(data: Any, path: tuple[str | int, ...]) -> bool:
    """Delete the mapping member at `path`; False when it is already gone."""
    parent = data
    for token in path[:-1]:
        parent = _child(parent, token)
    if isinstance(parent, dict) and path[-1] in parent:
        del parent[path[-1]]
        return True
    return False


def _pointer(parts: Any) -> str:
    return "".join(f"/{escape_pointer_token(p)}" for p in parts)


def _problems(error: ValidationError, spec: LoadedSpec) -> Iterator[Problem]:
    if error.context:
        # oneOf/anyOf: report the most relevant branch's complaint, not the whole union.
        # best_match descends from the union itself, so it prefers the deepest branch error
        # and one whose branch matches the instance's type (not the shallowest).
        deepest = best_match([error])
        if deepest is not None and deepest is not error:
            yield from _problems(deepest, spec)
            return
    pointer = _pointer(error.absolute_path)
    source = spec.source
    schema: Mapping[str, Any] = error.schema if isinstance(error.schema, Mapping) else {}
    instance: Any = error.instance
    expected: Any = error.validator_value
    if error.validator == "additionalProperties" and isinstance(instance, Mapping):
        known = list(schema.get("properties", {}))
        for name in instance:
            if name in known:
                continue
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
            hint = (
                f"; did you mean {close[0]!r}?"
                if close
                else f"; expected one of: {', '.join(known)}"
            )
            child = f"{pointer}/{escape_pointer_token(name)}"
            yield source.problem(child, f"unknown key {name!r}{hint}", key=True)
        return
    if len(error.schema_path) >= 2 and error.schema_path[-2] == "propertyNames":
        # jsonschema reports a bad name as the inner keyword's error (enum, pattern) on the name.
        name = str(instance)
        child = f"{pointer}/{escape_pointer_token(name)}"
        allowed = schema.get("enum")
        hint = f"; names must match {schema['pattern']!r}" if "pattern" in schema else ""
        if allowed:
            close = difflib.get_close_matches(str(name), allowed, n=1)
            hint = (
                f"; did you mean {close[0]!r}?"
                if close
                else f"; expected one of: {', '.join(allowed)}"
            )
        yield source.problem(child, f"{name!r} is not an allowed name here{hint}", key=True)
        return
    if error.validator == "required":
        missing = [n for n in expected if n not in (instance or {})]
        for name in missing:
            yield source.problem(pointer, f"missing required key {name!r}", key=True)
        return
    yield source.problem(pointer, _short(error.message))


def _short(message: str) -> str:
    message = re.sub(r"\s+", " ", message)
    return message if len(message) <= 200 else message[:197] + "..."
