"""engine._templates.folded and the fast path's literals: a template whose every input is
absent or null is computed once per combination of them, exactly as evaluating it would; a
constant dict literal is handed out as a fresh copy; `{...}.get(key)` evaluates the member the
key names only."""

from __future__ import annotations

from typing import Any

import pytest

from engine._budget import BudgetExceeded, budgeted
from engine._templates import MISSING, compile_template

# `x.y is none` tells a null x.y from an absent one: folding must not mix the two up.
SOURCES = [
    "{{ request.a.b is none }}",
    "{{ request.a.b is defined }}",
    "{{ (request.a.b or 'fallback') ~ '!' }}",
    "{{ {'x': 1, 'y': 2}.get(request.a.b, 'none of them') }}",
    "{{ [request.a.b, request.c] | compact | join(',') or 'empty' }}",
    "{{ 'yes' if request.a and request.c is none else 'no' }}",
]
CONTEXTS: list[dict[str, Any]] = [
    {"request": {}},
    {"request": {"a": None}},
    {"request": {"a": {}}},
    {"request": {"a": {"b": None}}},
    {"request": {"a": {"b": None}, "c": None}},
    {"request": {"a": {"b": "x"}, "c": "z"}},
    {"request": {"a": {"b": "y"}}},
    {"request": {"a": {"b": "q"}, "c": None}},
    {"request": None},
    {},
]


def _unfolded(source: str, context: dict[str, Any]) -> Any:
    """What Jinja itself renders (the sandboxed environment, no fast path)."""
    from engine._templates import ENVIRONMENT

    expression = source.removeprefix("{{").removesuffix("}}")
    with budgeted():
        value = ENVIRONMENT.compile_expression(expression, undefined_to_none=False)(**context)
    return None if value is MISSING or type(value).__name__.endswith("Undefined") else value


@pytest.mark.parametrize("source", SOURCES)
def test_a_folded_template_gives_what_evaluating_it_gives_in_any_order(source: str) -> None:
    template = compile_template(source)
    expected = [_unfolded(source, c) for c in CONTEXTS]
    for order in (CONTEXTS, list(reversed(CONTEXTS)), CONTEXTS + CONTEXTS):
        got = [template.render(c) for c in order]
        want = expected if order is CONTEXTS else [_unfolded(source, c) for c in order]
        assert got == want


def test_nothing_of_a_present_input_is_kept() -> None:
    template = compile_template("{{ request.card.number | default('none') | upper }}")
    memo = template.render.memo  # type: ignore[attr-defined]
    assert template.render({"request": {"card": {"number": "4242424242424242"}}}) == (
        "4242424242424242"
    )
    assert memo == {}  # a present input: evaluated, never remembered
    assert template.render({"request": {}}) == "NONE"
    assert list(memo.values()) == ["NONE"]  # only what no request value made


def test_a_mutable_result_is_never_shared() -> None:
    template = compile_template("{{ request.metadata | default({}) | merge({'k': 'v'}) }}")
    first = template.render({"request": {}})
    first["changed"] = True
    assert template.render({"request": {}}) == {"k": "v"}


def test_a_constant_dict_literal_is_a_fresh_copy_each_time() -> None:
    template = compile_template("{{ {'a': 1, 'b': 'two'} }}")
    first = template.render({})
    first["a"] = 99
    assert template.render({}) == {"a": 1, "b": "two"}


def test_get_on_a_literal_evaluates_the_named_member_only() -> None:
    # The other member fails if evaluated (not a date); the chosen one, or the default, is given.
    source = (
        "{{ {'ok': request.value, 'bad': request.value | unix_time}.get(request.key, 'dflt') }}"
    )
    template = compile_template(source)
    assert template.render({"request": {"key": "ok", "value": "7"}}) == "7"
    with pytest.raises(ValueError):
        template.render({"request": {"key": "bad", "value": "7"}})
    assert template.render({"request": {"key": "other", "value": "7"}}) == "dflt"
    assert template.render({"request": {"key": ["unhashable"], "value": "7"}}) == "dflt"


def test_literals_still_count_against_the_render_budget() -> None:
    from engine._budget import Budget
    from engine._fastexpr import compile_node
    from engine._templates import ENVIRONMENT

    (output,) = ENVIRONMENT.parse("{{ {'a': 1, 'b': 2} }}").body
    literal = compile_node(output.nodes[0], ENVIRONMENT, MISSING)  # type: ignore[attr-defined]
    assert literal is not None
    with budgeted(Budget(100, 10, "over")):
        assert literal({}) == {"a": 1, "b": 2}
    with budgeted(Budget(3, 10, "over")), pytest.raises(BudgetExceeded):
        literal({})  # its size (7 units) is charged, measured once
