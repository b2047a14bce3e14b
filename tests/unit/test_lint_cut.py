"""What schema validation cuts away never causes a problem of its own: break any one node of a
clean spec (a leaf made a list, a mapping made a string, a key deleted) and, whenever the schema
objects, the linter reports the schema problems and nothing derived from the cut (no "unknown
variable" for a cut credential or step, no "missing flow" for a cut flow), and never raises."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from engine._load import LoadedSpec, load_spec_text
from engine._resources import specs_dir
from engine._spec import check_loaded
from engine._validate import validate_spec

from .conftest import ACME_SPEC

Path_ = tuple[str | int, ...]


def nodes(value: Any, path: Path_ = ()) -> Iterator[tuple[Path_, Any]]:
    if path:
        yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from nodes(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from nodes(item, (*path, index))


def mutations(data: Any) -> Iterator[tuple[str, Any]]:
    for path, value in nodes(data):
        broken = copy.deepcopy(data)
        parent = broken
        for token in path[:-1]:
            parent = parent[token]
        parent[path[-1]] = "x" if isinstance(value, dict | list) else [[1]]
        yield f"{'/'.join(map(str, path))}={parent[path[-1]]!r}", broken
        if isinstance(parent, dict):
            deleted = copy.deepcopy(broken)
            holder = deleted
            for token in path[:-1]:
                holder = holder[token]
            del holder[path[-1]]
            yield f"{'/'.join(map(str, path))} deleted", deleted


def cases() -> Iterator[Any]:
    for name, text in (
        ("acme", ACME_SPEC),
        ("razorpay", (specs_dir() / "razorpay.yaml").read_text(encoding="utf-8")),
    ):
        base = load_spec_text(text, f"{name}.yaml")
        assert check_loaded(base)[1] == []
        found = list(mutations(base.data))
        step = 2 if name == "acme" else 13  # a deterministic sample
        for label, data in found[::step]:
            if validate_spec(LoadedSpec(data, base.source)):  # the schema objects
                yield pytest.param(base, data, id=f"{name}:{label}"[:80])


@pytest.mark.parametrize(("base", "data"), list(cases()))
def test_a_cut_causes_no_problem_of_its_own(base: LoadedSpec, data: Any) -> None:
    spec = LoadedSpec(data, base.source)
    schema = validate_spec(spec)
    problems = check_loaded(spec)[1]
    assert schema and [p for p in problems if p not in schema] == []
