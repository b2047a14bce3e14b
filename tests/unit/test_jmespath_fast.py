"""JMESPath expressions are compiled to closures (engine._jmes_compile): plain field paths and
`||` between them without a budget, the rest under the bounded interpreter's budget; only an
`&expression` argument is left to that interpreter. All must agree with jmespath itself
(tests/property/test_jmes_compile.py runs every bundled spec's expressions)."""

from __future__ import annotations

import inspect
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
    assert not inspect.unwrap(search).__qualname__.startswith("bounded_search")


@pytest.mark.parametrize(
    "expression", ["a[0].b", "a || b[0]", "a && b", "length(a)", "a.b | c", "a[?b]"]
)
def test_other_expressions_are_compiled_too(expression: str) -> None:
    search = compile_jmespath(expression)
    document = {"a": [{"b": 1}], "b": 2, "c": 3}
    assert search(document) == jmespath.search(expression, document)
    assert not inspect.unwrap(search).__qualname__.startswith("bounded_search")


@pytest.mark.parametrize("expression", ["sort_by(a, &b)", "max_by(a, &b).b", "map(&b, a)"])
def test_an_expression_argument_is_left_to_the_bounded_interpreter(expression: str) -> None:
    search = compile_jmespath(expression)
    document = {"a": [{"b": 2}, {"b": 1}]}
    assert search(document) == jmespath.search(expression, document)
    assert inspect.unwrap(search).__qualname__.startswith(
        "bounded_search"
    )  # jmespath, under a budget
