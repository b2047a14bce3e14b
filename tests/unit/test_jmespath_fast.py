"""Plain JMESPath field paths use a direct lookup: it must agree with jmespath itself."""

from __future__ import annotations

from typing import Any

import jmespath
import pytest

from engine._compile import compile_jmespath

DOCUMENTS: list[Any] = [
    {"a": {"b": {"c": 1}}},
    {"a": {"b": None}},
    {"a": {"b": [1, 2]}},
    {"a": "text"},
    {"a": [{"b": 1}]},
    {"a": {"b": {"c": {"d": False}}}},
    {"a": 0},
    [],
    "a",
    None,
    {},
]


@pytest.mark.parametrize("expression", ["a", "a.b", "a.b.c", "a.b.c.d", '"a".b'])
@pytest.mark.parametrize("document", DOCUMENTS, ids=repr)
def test_plain_paths_agree_with_jmespath(expression: str, document: Any) -> None:
    assert compile_jmespath(expression)(document) == jmespath.search(expression, document)


@pytest.mark.parametrize("expression", ["a[0].b", "a || b", "length(a)", "a.b | c", "a[?b]"])
def test_other_expressions_are_left_to_jmespath(expression: str) -> None:
    search = compile_jmespath(expression)
    document = {"a": [{"b": 1}], "b": 2, "c": 3}
    assert search(document) == jmespath.search(expression, document)
    assert search.__qualname__.startswith("bounded_search")  # jmespath, under a budget
