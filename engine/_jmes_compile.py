"""JMESPath's parsed AST → a tree of Python closures computing what jmespath's TreeInterpreter
computes, node for node, within the same extraction budget as engine._extraction's bounded
interpreter: the interpreter walks a dict tree and dispatches on every node at every call; a
closure does the node's work directly.

Two forms, chosen once per expression:
- unbudgeted: field paths, indexes, `@`, literals, `||`, `&&`, `!`, comparisons and pipes.
  Each node is visited at most once per search and none builds anything, so a search costs at
  most the expression's size: no budget can be exceeded and none is kept.
- budgeted: anything with a projection, a filter, a flatten, a slice, a multi-select or a
  function. Every node visit costs one step and every value built is charged exactly where the
  bounded interpreter charges it (the same steps, the same sizes, the same refusals).

An expression with a node kind not handled here (an `&expression` argument: `sort_by`,
`max_by`, `map`…) returns None, and the caller keeps the bounded interpreter. Semantics are
jmespath's own: its comparison, truth and function tables are used, not re-implemented."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from numbers import Number
from typing import Any

from jmespath import functions
from jmespath.visitor import TreeInterpreter

from ._budget import (
    GROWTH,
    MAX_EXTRACTION_STEPS,
    Budget,
    BudgetExceeded,
    extraction_budget,
    tree_size,
)

#: A compiled node: (current value, the search's budget or None when unbudgeted) → value.
Node = Callable[[Any, Any], Any]

#: Node kinds that build a new list, object or text (charged by their size after the visit),
#: as engine._extraction._BUILDS.
_BUILDS = frozenset(
    {
        "multi_select_list",
        "multi_select_dict",
        "projection",
        "value_projection",
        "filter_projection",
        "slice",
        "flatten",
    }
)
#: Node kinds that need no budget: each is visited at most once per search and builds nothing.
_UNBUDGETED = frozenset(
    {
        "field",
        "subexpression",
        "index_expression",
        "index",
        "identity",
        "current",
        "literal",
        "or_expression",
        "and_expression",
        "not_expression",
        "comparator",
        "pipe",
    }
)
_HANDLED = _UNBUDGETED | _BUILDS | {"function_expression", "key_val_pair"}
#: Functions whose output is text as long as their input's tree (checked before they run).
_SERIALISING = frozenset({"to_string"})
_COMPARE = TreeInterpreter.COMPARATOR_FUNC
_FUNCTIONS = functions.Functions()


#: What TreeInterpreter._is_false compares a value with (besides None and False).
_FALSE_VALUES: tuple[Any, ...] = ("", [], {})


def _is_false(value: Any) -> bool:
    """JMESPath's false values (TreeInterpreter._is_false): the empty text, list and object,
    null and false; 0 is true. The exact JSON types answer without a comparison."""
    kind = type(value)
    if kind is str or kind is dict or kind is list:
        return not value
    if value is None or value is False:
        return True
    if kind is int or kind is float or kind is bool:
        return False
    return value in _FALSE_VALUES


def _is_actual_number(value: Any) -> bool:
    """jmespath.visitor._is_actual_number: a number, and not a bool."""
    return not isinstance(value, bool) and isinstance(value, Number)


def _is_comparable(value: Any) -> bool:
    """jmespath.visitor._is_comparable: what the ordering operators compare (else null)."""
    return _is_actual_number(value) or isinstance(value, str)


def _kinds(node: Mapping[str, Any], found: list[str]) -> list[str]:
    found.append(node["type"])
    for child in node.get("children", ()):
        if isinstance(child, Mapping):
            _kinds(child, found)
    return found


def compile_search(parsed: Mapping[str, Any]) -> Callable[[Any], Any] | None:
    """document → the expression's value, or None when the expression is left to the
    interpreter (a node kind not handled here, or an expression larger than the step budget)."""
    kinds = _kinds(parsed, [])
    if not set(kinds) <= _HANDLED or len(kinds) >= MAX_EXTRACTION_STEPS:
        return None
    if set(kinds) <= _UNBUDGETED:
        chain = _field_chain(parsed)
        if chain is not None:
            return _lookup(chain)
        node = _compile(parsed, False)
        return lambda document: node(document, None)
    node = _compile(parsed, True)
    return lambda document: node(document, extraction_budget())


#: Node kinds whose children all see the value the node sees.
_SAME_VALUE = frozenset(
    {
        "or_expression",
        "and_expression",
        "not_expression",
        "comparator",
        "multi_select_list",
        "multi_select_dict",
        "key_val_pair",
        "function_expression",
        "flatten",
    }
)
#: Node kinds whose first child sees the node's value and the others what it gave.
_FIRST_SEES_VALUE = frozenset(
    {
        "subexpression",
        "index_expression",
        "pipe",
        "projection",
        "value_projection",
        "filter_projection",
    }
)


def root_fields(node: Mapping[str, Any], found: set[str] | None = None) -> set[str] | None:
    """The names of the document's own members the expression reads, when it reads the
    document only through them (`a.b || c[0]` reads `a` and `c`); None when it reads the
    document otherwise (`@`, `*`, `[0]` on the document itself, a node kind not known here).
    Then, on a document where each of those members is absent or null, the expression's value
    is what it is on `{}`: nothing else of the document is ever looked at (JMESPath has no
    way back to the root from a member)."""
    found = set() if found is None else found
    kind = node.get("type")
    if kind == "field":
        found.add(node["value"])
        return found
    if kind == "literal":
        return found
    children = [child for child in node.get("children", ()) if isinstance(child, Mapping)]
    if kind in _SAME_VALUE:
        for child in children:
            if child.get("type") == "expref":
                continue  # evaluated on the elements of another argument, not the document
            if root_fields(child, found) is None:
                return None
        return found
    if kind in _FIRST_SEES_VALUE and children:
        return root_fields(children[0], found)
    return None


#: Values a folded search may hand out again (nothing a caller could change in place).
_IMMUTABLE = frozenset({str, int, float, bool, type(None)})


def folded_search(search: Callable[[Any], Any], names: set[str]) -> Callable[[Any], Any]:
    """`search`, computed once when every member it reads (`root_fields`) is absent or null in
    the document (a `next_action` extraction on an answer without one, an error's code on a
    success): the value is then the same for every such document. Exact, and only an
    immutable value is kept."""
    ordered = tuple(sorted(names))
    kept: list[Any] = []

    def folded(document: Any) -> Any:
        if type(document) is not dict:
            return search(document)
        for name in ordered:
            if document.get(name) is not None:
                return search(document)
        if kept:
            return kept[0]
        value = search(document)
        if type(value) in _IMMUTABLE:
            kept.append(value)
        return value

    folded.kept = kept  # type: ignore[attr-defined]  # for the tests: what it keeps
    folded.__wrapped__ = search  # type: ignore[attr-defined]  # inspect.unwrap: the search itself
    return folded


def _field_chain(node: Mapping[str, Any]) -> tuple[str, ...] | None:
    """The names of `a`, `a.b.c` (a subexpression of fields only), or None."""
    if node["type"] == "field":
        return (node["value"],)
    if node["type"] != "subexpression":
        return None
    names: list[str] = []
    for child in node["children"]:
        chain = _field_chain(child)
        if chain is None:
            return None
        names.extend(chain)
    return tuple(names)


def _get(value: Any, name: str) -> Any:
    """TreeInterpreter.visit_field: `value.get(name)`, None for a value without `get`."""
    try:
        return value.get(name)
    except AttributeError:
        return None


def _lookup(names: tuple[str, ...]) -> Callable[[Any], Any]:
    if len(names) == 1:
        (name,) = names

        def one(document: Any) -> Any:
            if type(document) is dict:
                return document.get(name)
            return _get(document, name)

        return one

    def lookup(document: Any) -> Any:
        for name in names:
            if type(document) is dict:
                document = document.get(name)
            elif document is None:
                return None
            else:
                document = _get(document, name)
        return document

    return lookup


def _compile(node: Mapping[str, Any], budgeted: bool) -> Node:
    kind = node["type"]
    compiled = _COMPILERS[kind](node, budgeted)
    if not budgeted:
        return compiled
    builds = kind in _BUILDS

    def counted(value: Any, budget: Budget) -> Any:
        # engine._extraction.BoundedInterpreter.visit: one step per visit, builds charged after.
        budget.steps -= 1
        if budget.steps < 0:
            raise BudgetExceeded(budget.over)
        result = compiled(value, budget)
        if builds and isinstance(result, list | dict | str):
            budget.size -= len(result) + 1
            if budget.size < 0:
                raise BudgetExceeded(budget.over)
        return result

    return counted


def _children(node: Mapping[str, Any], budgeted: bool) -> list[Node]:
    return [_compile(child, budgeted) for child in node["children"]]


def _field(node: Mapping[str, Any], budgeted: bool) -> Node:
    name = node["value"]

    def field(value: Any, budget: Any) -> Any:
        if type(value) is dict:
            return value.get(name)
        return _get(value, name)

    return field


def _sequence(node: Mapping[str, Any], budgeted: bool) -> Node:
    """subexpression, index_expression, pipe: each child applied to the one before's value."""
    chain = _field_chain(node) if not budgeted and node["type"] == "subexpression" else None
    if chain is not None:
        lookup = _lookup(chain)
        return lambda value, budget: lookup(value)
    steps = _children(node, budgeted)
    if len(steps) == 2:
        first, second = steps
        return lambda value, budget: second(first(value, budget), budget)

    def sequence(value: Any, budget: Any) -> Any:
        for step in steps:
            value = step(value, budget)
        return value

    return sequence


def _index(node: Mapping[str, Any], budgeted: bool) -> Node:
    position = node["value"]

    def index(value: Any, budget: Any) -> Any:
        if not isinstance(value, list):
            return None
        try:
            return value[position]
        except IndexError:
            return None

    return index


def _slice(node: Mapping[str, Any], budgeted: bool) -> Node:
    bounds = slice(*node["children"])

    def sliced(value: Any, budget: Any) -> Any:
        if not isinstance(value, list):
            return None
        return value[bounds]

    return sliced


def _current(node: Mapping[str, Any], budgeted: bool) -> Node:
    return lambda value, budget: value


def _literal(node: Mapping[str, Any], budgeted: bool) -> Node:
    constant = node["value"]
    return lambda value, budget: constant


def _or(node: Mapping[str, Any], budgeted: bool) -> Node:
    left, right = _children(node, budgeted)

    def either(value: Any, budget: Any) -> Any:
        matched = left(value, budget)
        if _is_false(matched):
            matched = right(value, budget)
        return matched

    return either


def _and(node: Mapping[str, Any], budgeted: bool) -> Node:
    left, right = _children(node, budgeted)

    def both(value: Any, budget: Any) -> Any:
        matched = left(value, budget)
        if _is_false(matched):
            return matched
        return right(value, budget)

    return both


def _not(node: Mapping[str, Any], budgeted: bool) -> Node:
    (inner,) = _children(node, budgeted)

    def negated(value: Any, budget: Any) -> Any:
        original = inner(value, budget)
        if _is_actual_number(original) and original == 0:
            return False  # !0 is false: 0 is not a false value in JMESPath
        return not original

    return negated


def _comparator(node: Mapping[str, Any], budgeted: bool) -> Node:
    operator = node["value"]
    compare = _COMPARE[operator]
    left, right = _children(node, budgeted)
    if operator in ("eq", "ne"):
        text = None if budgeted else _text_literal(node["children"][1])
        if text is not None:  # `x == 'text'`: a text is never the special case of 0/1 and bools
            if operator == "eq":
                return lambda value, budget: left(value, budget) == text
            return lambda value, budget: not left(value, budget) == text  # noqa: SIM201
        return lambda value, budget: compare(left(value, budget), right(value, budget))

    def ordered(value: Any, budget: Any) -> Any:
        # Ordering operators hold between numbers (and texts) only; otherwise null.
        first = left(value, budget)
        second = right(value, budget)
        if not (_is_comparable(first) and _is_comparable(second)):
            return None
        return compare(first, second)

    return ordered


def _text_literal(node: Mapping[str, Any]) -> str | None:
    """The text of a literal node (`'a'`, `` `"a"` ``), or None."""
    if node["type"] == "literal" and type(node["value"]) is str:
        return str(node["value"])
    return None


def _projection(node: Mapping[str, Any], budgeted: bool) -> Node:
    base_of, each = _children(node, budgeted)

    def projection(value: Any, budget: Any) -> Any:
        base = base_of(value, budget)
        if not isinstance(base, list):
            return None
        collected = []
        for element in base:
            current = each(element, budget)
            if current is not None:
                collected.append(current)
        return collected

    return projection


def _value_projection(node: Mapping[str, Any], budgeted: bool) -> Node:
    base_of, each = _children(node, budgeted)

    def projection(value: Any, budget: Any) -> Any:
        base = base_of(value, budget)
        try:
            base = base.values()
        except AttributeError:
            return None
        collected = []
        for element in base:
            current = each(element, budget)
            if current is not None:
                collected.append(current)
        return collected

    return projection


def _filter_projection(node: Mapping[str, Any], budgeted: bool) -> Node:
    base_of, each, condition = _children(node, budgeted)

    def projection(value: Any, budget: Any) -> Any:
        base = base_of(value, budget)
        if not isinstance(base, list):
            return None
        collected = []
        for element in base:
            if not _is_false(condition(element, budget)):
                current = each(element, budget)
                if current is not None:
                    collected.append(current)
        return collected

    return projection


def _flatten(node: Mapping[str, Any], budgeted: bool) -> Node:
    (base_of,) = _children(node, budgeted)

    def flatten(value: Any, budget: Budget) -> Any:
        base = base_of(value, budget)
        if not isinstance(base, list):
            return None  # JMESPath: only a list flattens
        length = sum(len(e) if isinstance(e, list) else 1 for e in base)
        if length > budget.size:  # refused before the list is built
            raise BudgetExceeded(budget.over)
        merged: list[Any] = []
        for element in base:
            if isinstance(element, list):
                merged.extend(element)
            else:
                merged.append(element)
        return merged

    return flatten


def _multi_select_list(node: Mapping[str, Any], budgeted: bool) -> Node:
    items = _children(node, budgeted)

    def multi_select(value: Any, budget: Any) -> Any:
        if value is None:
            return None
        return [item(value, budget) for item in items]

    return multi_select


def _multi_select_dict(node: Mapping[str, Any], budgeted: bool) -> Node:
    pairs = [(child["value"], _compile(child, budgeted)) for child in node["children"]]

    def multi_select(value: Any, budget: Any) -> Any:
        if value is None:
            return None
        collected = {}
        for key, pair in pairs:
            collected[key] = pair(value, budget)
        return collected

    return multi_select


def _key_val_pair(node: Mapping[str, Any], budgeted: bool) -> Node:
    (inner,) = _children(node, budgeted)
    return inner


def _function(node: Mapping[str, Any], budgeted: bool) -> Node:
    """engine._extraction.BoundedInterpreter.visit_function_expression, check for check."""
    name = node["value"]
    arguments = _children(node, budgeted)
    serialising = name in _SERIALISING
    call = _FUNCTIONS.call_function

    def function(value: Any, budget: Budget) -> Any:
        args = [argument(value, budget) for argument in arguments]
        if serialising:
            budget.afford(args, GROWTH)
        elif name == "join" and len(args) == 2 and isinstance(args[1], list):
            texts = sum(len(a) if isinstance(a, str) else 1 for a in args[1])
            glue = len(args[0]) if isinstance(args[0], str) else 1
            if texts + glue * len(args[1]) > budget.size:
                raise BudgetExceeded(budget.over)
        result = call(name, args)
        if isinstance(result, str | list | dict) and not serialising:
            budget.size -= tree_size(result, budget.size) if name == "join" else len(result)
            if budget.size < 0:
                raise BudgetExceeded(budget.over)
        elif isinstance(result, str):
            budget.size -= len(result)
        return result

    return function


_COMPILERS: Mapping[str, Callable[[Mapping[str, Any], bool], Node]] = {
    "field": _field,
    "subexpression": _sequence,
    "index_expression": _sequence,
    "pipe": _sequence,
    "index": _index,
    "slice": _slice,
    "identity": _current,
    "current": _current,
    "literal": _literal,
    "or_expression": _or,
    "and_expression": _and,
    "not_expression": _not,
    "comparator": _comparator,
    "projection": _projection,
    "value_projection": _value_projection,
    "filter_projection": _filter_projection,
    "flatten": _flatten,
    "multi_select_list": _multi_select_list,
    "multi_select_dict": _multi_select_dict,
    "key_val_pair": _key_val_pair,
    "function_expression": _function,
}
