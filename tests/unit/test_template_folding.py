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


def test_a_method_call_reads_the_mapping_it_is_called_on() -> None:
    """`credentials.get('api_key')` reads `credentials`: a present mapping, never folded (a
    path `credentials.get` would read as absent, and keep the first key's output)."""
    template = compile_template("{{ credentials.get('api_key') | upper }}")
    assert template.render({"credentials": {"api_key": "first"}}) == "FIRST"
    assert template.render({"credentials": {"api_key": "second"}}) == "SECOND"
    assert template.render.memo == {}  # type: ignore[attr-defined]
    nested = compile_template("{{ request.x.get('k', 'dflt') | upper }}")
    for value, expected in (({}, "DFLT"), ({"k": "v"}, "V"), ({}, "DFLT"), ({"k": "w"}, "W")):
        assert nested.render({"request": {"x": value}}) == expected


def test_every_bundled_template_folds_to_what_it_evaluates_to() -> None:
    """Each template of the bundled specs, over contexts with its inputs absent, null and
    present: the folded renderer gives what the template gives unfolded, in any order."""
    import engine._spec_cache as cache
    from engine._spec import bundled_spec_paths
    from engine._templates import ENVIRONMENT, _compile_template_cached

    sources: set[str] = set()
    for path in bundled_spec_paths():
        module = cache.loaded_module(path)
        assert module is not None, path.stem
        sources.update(module.jinja())
    checked = 0
    for source in sorted(sources):
        template = compile_template(source)
        memo = getattr(template.render, "memo", None)
        if memo is None:
            continue  # not folded (plain, or not on the fast path)
        contexts = _contexts_for(template.paths)
        _compile_template_cached.cache_clear()
        for order in (contexts, contexts[::-1]):
            fresh = compile_template(source, ENVIRONMENT)
            for context in order:
                assert _outcome(fresh.render, context) == _outcome(
                    _unfolded_render(source), context
                ), (source, context)
        checked += 1
    assert checked > 100


def _contexts_for(paths: Any) -> list[dict[str, Any]]:
    """Contexts where every path is absent, null, or holds a text (all alike, then mixed)."""
    out: list[dict[str, Any]] = []
    for fill in ("absent", "null", "text", "mixed"):
        context: dict[str, Any] = {}
        for index, path in enumerate(paths):
            kind = fill if fill != "mixed" else ("absent", "null", "text")[index % 3]
            if kind == "absent":
                continue
            node = context
            for part in (path.root, *path.segments[:-1]):
                child = node.get(part) if isinstance(node, dict) else None
                if not isinstance(child, dict):
                    child = node[part] = {} if isinstance(node, dict) else None
                node = child
            if isinstance(node, dict):
                node[(path.root, *path.segments)[-1]] = None if kind == "null" else "x1"
        out.append(context)
    return out


def _unfolded_render(source: str) -> Any:
    """The same template's renderer without folding (its fast path as compiled)."""
    from engine import _templates

    original = _templates.folded
    _templates.folded = lambda render, paths: render  # type: ignore[assignment]
    try:
        _templates._compile_template_cached.cache_clear()
        return _templates.compile_template(source).render
    finally:
        _templates.folded = original
        _templates._compile_template_cached.cache_clear()


def _outcome(render: Any, context: dict[str, Any]) -> Any:
    try:
        return ("value", render(context))
    except Exception as exc:  # an error is an outcome too: it must be the same one
        return ("error", type(exc).__name__)


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
