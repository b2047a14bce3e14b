"""The JMESPath compiler (engine._jmes_compile) against jmespath itself: for every expression
the bundled specs extract with, and random documents built from the names and literals each
expression uses (so that its paths hit, its comparisons match and its functions run), the
compiled search gives jmespath.search's value, of the same type, or raises what it raises."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any

import jmespath
import pytest
from hypothesis import given
from hypothesis import strategies as st

import engine._compile
from engine._jmes_compile import compile_search
from engine._spec import bundled_spec_paths, compile_file


@cache
def bundled_expressions() -> tuple[str, ...]:
    """Every JMESPath expression a bundled spec's plan compiles (every flow, webhooks too)."""
    seen: set[str] = set()
    original = engine._compile.compile_jmespath

    def spy(source: str) -> Any:
        seen.add(source)
        return original(source)

    engine._compile.compile_jmespath = spy  # type: ignore[assignment]
    try:
        for path in bundled_spec_paths():
            compile_file(path)
    finally:
        engine._compile.compile_jmespath = original
    return tuple(sorted(seen))


def _nodes(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict) and "type" in node:
        yield node
        for child in node.get("children", ()):
            yield from _nodes(child)


def vocabulary(expression: str) -> tuple[list[str], list[Any]]:
    """The field names and the literal values an expression uses."""
    nodes = list(_nodes(jmespath.compile(expression).parsed))
    names = sorted({n["value"] for n in nodes if n["type"] in ("field", "key_val_pair")})
    literals = [n["value"] for n in nodes if n["type"] == "literal"]
    return names or ["a"], literals


def documents(names: list[str], literals: list[Any]) -> st.SearchStrategy[Any]:
    """JSON documents whose keys are the expression's names and whose leaves are often its
    literals, JMESPath's false values, and numbers around 0 and 1 (true/false's neighbours)."""
    leaves = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-2, 3),
        st.floats(allow_nan=False, allow_infinity=False),
        st.sampled_from(["", "x", *names]),
        st.sampled_from([*literals, [], {}]) if literals else st.sampled_from([[], {}]),
        st.text(max_size=4),
    )
    return st.recursive(
        leaves,
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.sampled_from(names), inner, max_size=len(names))
        ),
        max_leaves=20,
    )


def outcome(search: Any, document: Any) -> tuple[str, Any]:
    try:
        value = search(document)
    except Exception as exc:  # the same failure (a type error in a function, a comparison)
        return "raises", type(exc)
    return "value", repr(value)


@st.composite
def cases(draw: st.DrawFn) -> tuple[str, Any]:
    expression = draw(st.sampled_from(bundled_expressions()))
    return expression, draw(documents(*vocabulary(expression)))


def test_the_bundled_specs_extract_with_expressions_the_compiler_handles() -> None:
    expressions = bundled_expressions()
    assert len(expressions) > 100
    left = [e for e in expressions if compile_search(jmespath.compile(e).parsed) is None]
    assert left == []


@given(cases())
def test_a_compiled_expression_agrees_with_jmespath(case: tuple[str, Any]) -> None:
    expression, document = case
    compiled = compile_search(jmespath.compile(expression).parsed)
    assert compiled is not None
    expected = outcome(lambda d: jmespath.search(expression, d), document)
    assert outcome(compiled, document) == expected


@pytest.mark.parametrize("expression", bundled_expressions())
def test_every_bundled_expression_agrees_on_documents_that_hit_it(expression: str) -> None:
    """Each expression (not only those hypothesis samples) on a few documents: every name it
    uses set to each kind of value, nested so that a path's every prefix is present."""
    compiled = compile_search(jmespath.compile(expression).parsed)
    assert compiled is not None
    names, literals = vocabulary(expression)
    for leaf in [None, True, False, 0, 1, 2.5, "", "x", [], {}, *literals, *names]:
        document: Any = leaf
        for _ in range(3):
            document = {name: document for name in names}
            for candidate in (document, [document], {"x": [document, leaf]}):
                expected = outcome(lambda d: jmespath.search(expression, d), candidate)
                assert outcome(compiled, candidate) == expected, (expression, candidate)


GRAMMAR = [
    "a.b[0].c",
    "a[-1]",
    "a[1:3]",
    "a[::-1].b",
    "a[*].b",
    "a.*.b",
    "a[?b > `1`].c",
    "a[?b == 'x'] | [0]",
    "a[].b[]",
    "[a, b.c]",
    "{x: a, y: b.c}",
    "!a",
    "!(a && b)",
    "a < b",
    "a >= `0`",
    "a != b",
    "length(a)",
    "join(',', a)",
    "to_string(a)",
    "contains(a, 'x')",
    "starts_with(a, 'x')",
    "a | @ | [0]",
    "`[1, 2]`",
    "@",
    "a.b || c && !d",
    "not_null(a, b)",
    "type(a)",
    "keys(a)",
    "max(a)",
]


@given(
    st.sampled_from(GRAMMAR).flatmap(
        lambda e: st.tuples(st.just(e), documents(["a", "b", "c", "d"], ["x", 1, 0]))
    )
)
def test_every_node_kind_agrees_with_jmespath(case: tuple[str, Any]) -> None:
    expression, document = case
    compiled = compile_search(jmespath.compile(expression).parsed)
    assert compiled is not None
    expected = outcome(lambda d: jmespath.search(expression, d), document)
    assert outcome(compiled, document) == expected


@pytest.mark.parametrize(
    ("expression", "size"),
    [
        # The last size the bounded interpreter accepts, and the first it refuses.
        ("items[*].a", 199_998),
        ("items[*].a", 199_999),
        ("items[?a].a", 99_999),
        ("items[?a].a", 100_000),
    ],
)
def test_the_compiled_budget_refuses_exactly_what_the_bounded_interpreter_refuses(
    expression: str, size: int
) -> None:
    from engine._extraction import bounded_search

    document = {"items": [{"a": i % 2} for i in range(size)]}
    parsed = jmespath.compile(expression)
    compiled = compile_search(parsed.parsed)
    assert compiled is not None
    assert outcome(compiled, document) == outcome(bounded_search(parsed), document)
