"""Loaded spec data → every schema problem, located at file:line:col with a "did you mean"."""

from __future__ import annotations

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
    problems: dict[tuple[str, str], Problem] = {}
    for error in spec_validator().iter_errors(spec.data):
        for problem in _problems(error, spec):
            problems.setdefault((problem.pointer, problem.message), problem)
    return list(problems.values())


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
