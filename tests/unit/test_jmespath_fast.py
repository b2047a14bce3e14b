"""Plain JMESPath field paths (and `||` between them) use direct lookups: they must agree with
jmespath itself."""

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


#: JMESPath's false values (null, "", [], {}, false) against Python's (0 is true in JMESPath).
OR_DOCUMENTS: list[Any] = [
    *DOCUMENTS,
    {"a": "", "b": {"c": []}, "d": "x"},
    {"a": None, "b": {"c": 5}},
    {"a": False, "b": {"c": {}}, "d": 0},
    {"a": [], "b": {"c": ""}},
    {"a": {}, "b": 1},
    {"a": "s", "b": {"c": 0}},
]


@pytest.mark.parametrize(
    "expression", ["a || b.c", "a || b.c || d", "(a || b.c) || d", "a || (b.c || d)", "b.c || a"]
)
@pytest.mark.parametrize("document", OR_DOCUMENTS, ids=repr)
def test_alternative_paths_agree_with_jmespath(expression: str, document: Any) -> None:
    search = compile_jmespath(expression)
    expected = jmespath.search(expression, document)
    assert search(document) == expected
    assert type(search(document)) is type(expected)  # 0 stays 0, False stays False
    assert not search.__qualname__.startswith("bounded_search")


@pytest.mark.parametrize(
    "expression", ["a[0].b", "a || b[0]", "a && b", "length(a)", "a.b | c", "a[?b]"]
)
def test_other_expressions_are_left_to_jmespath(expression: str) -> None:
    search = compile_jmespath(expression)
    document = {"a": [{"b": 1}], "b": 2, "c": 3}
    assert search(document) == jmespath.search(expression, document)
    assert search.__qualname__.startswith("bounded_search")  # jmespath, under a budget
